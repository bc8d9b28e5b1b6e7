package io.gpupool.scheduler.hold;

/** What the caller knows of when the holdings in a snapshot end. */
public interface Endings {
  /** Nothing known: every holding ends at an unknown time. */
  Endings UNKNOWN = id -> Long.MAX_VALUE;

  /**
   * Epoch millis by which job {@code id}'s allocations are sure to be gone (a deadline), or {@code
   * Long.MAX_VALUE} when unknown.
   */
  long endBy(String id);

  /**
   * False for holdings the pool's jobs do not own (another workload's pods): the head is planned
   * around them, never onto them. True by default.
   */
  default boolean ends(String id) {
    return true;
  }
}
