package io.gpupool.operator.config;

import java.time.Duration;

/** The operator's retry waits: doubling from a first wait, never beyond a longest one. */
public final class Backoffs {
  private Backoffs() {}

  /** {@code first} after one failure, twice that after two, … at most {@code longest}. */
  public static Duration doubling(Duration first, Duration longest, int failures) {
    Duration wait = first.multipliedBy(1L << Math.min(Math.max(failures, 1) - 1, 10));
    return wait.compareTo(longest) > 0 ? longest : wait;
  }
}
