package io.gpupool.scheduler.model;

/** How a job is split across its workers. */
public enum Strategy {
  /** Every worker holds the whole model and a share of the batch; gradients are all-reduced. */
  DATA_PARALLEL,
  /** Workers hold contiguous layer ranges (stages); activations flow from stage to stage. */
  PIPELINE_PARALLEL,
  /** Let the planner choose (best estimated throughput per unit of cost). */
  AUTO
}
