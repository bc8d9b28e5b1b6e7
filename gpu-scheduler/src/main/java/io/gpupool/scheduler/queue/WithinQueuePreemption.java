package io.gpupool.scheduler.queue;

/** Whether a blocked workload may evict admitted workloads of its own queue. */
public enum WithinQueuePreemption {
  NEVER,
  /** Only workloads of strictly lower priority. */
  LOWER_PRIORITY
}
