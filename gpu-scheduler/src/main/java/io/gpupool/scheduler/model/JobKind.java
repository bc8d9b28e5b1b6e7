package io.gpupool.scheduler.model;

/** What a job does with its GPUs. */
public enum JobKind {
  TRAINING,
  INFERENCE
}
