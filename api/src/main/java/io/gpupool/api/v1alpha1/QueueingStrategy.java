package io.gpupool.api.v1alpha1;

/** How a queue treats jobs behind a head that does not fit, as in Kueue. */
public enum QueueingStrategy {
  /** Jobs behind a blocked head may start when they do not delay it (the default). */
  BestEffortFIFO,
  /** Nothing behind a blocked head starts. */
  StrictFIFO
}
