package io.gpupool.api.v1alpha1;

/** Whether a replica may be split across GPUs when no single GPU holds the model. */
public enum Sharding {
  /** Tensor parallel inside a node, pipeline across nodes, as needed. */
  Auto,
  /** Each replica must fit one GPU (or one GPU share). */
  None
}
