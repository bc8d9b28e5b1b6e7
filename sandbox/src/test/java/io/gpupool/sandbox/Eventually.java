package io.gpupool.sandbox;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.Predicate;
import java.util.function.Supplier;

/** Polls until a value satisfies a test, or fails naming what it waited for and what it saw. */
public final class Eventually {
  private Eventually() {}

  /** The first value of {@code get} that {@code ok} accepts within {@code within}. */
  public static <T> T eventually(Duration within, Supplier<T> get, Predicate<T> ok, String what) {
    long deadline = System.nanoTime() + within.toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = get.get();
      if (ok.test(last)) {
        return last;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return fail("timed out waiting for " + what + "; last seen: " + last);
  }
}
