package io.gpupool.api.v1alpha1;

/** How a training job is split across GPUs. */
public enum ParallelismStrategy {
  /** Every worker holds the whole model and a share of each batch. */
  DataParallel,
  /** Layers are split into contiguous stages, one per worker, sized to each GPU. */
  PipelineParallel,
  /** The planner picks whichever gives the best throughput per unit of cost. */
  Auto
}
