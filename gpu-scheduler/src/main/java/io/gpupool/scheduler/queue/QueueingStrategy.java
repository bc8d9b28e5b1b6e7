package io.gpupool.scheduler.queue;

/** How a queue treats workloads behind a head that does not fit (Kueue's two strategies). */
public enum QueueingStrategy {
  /** Nothing behind a blocked head is admitted from this queue. */
  STRICT_FIFO,
  /**
   * Workloads behind a blocked head may be admitted when they do not delay it: they fit beside the
   * capacity held for the head, or they are sure to end before the head could start.
   */
  BEST_EFFORT_FIFO
}
