package io.gpupool.api.v1alpha1;

/** Whether a job may evict admitted jobs of its own queue. */
public enum WithinQueuePreemption {
  Never,
  /** Jobs of strictly lower priority (the default). */
  LowerPriority
}
