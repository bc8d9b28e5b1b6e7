package io.gpupool.scheduler.queue;

/**
 * Whether a workload that fits within its queue's nominal quota may evict workloads that other
 * queues of the cohort run on quota they borrowed from it.
 */
public enum CohortReclaim {
  NEVER,
  /** Only borrowers of strictly lower priority. */
  LOWER_PRIORITY,
  /** Any borrower: nominal quota is a guarantee. */
  ANY
}
