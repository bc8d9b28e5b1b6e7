package io.gpupool.api.v1alpha1;

/** Whether a job within its queue's nominal quota may evict borrowers in the cohort. */
public enum ReclaimWithinCohort {
  Never,
  /** Borrowers of strictly lower priority. */
  LowerPriority,
  /** Any borrower: nominal quota is a guarantee (the default). */
  Any
}
