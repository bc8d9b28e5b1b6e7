package io.gpupool.api.v1alpha1;

/** Whether and how the operator checks that a TrainingJob's providers did the training. */
public enum TrainingVerificationMode {
  /** No checks: the providers' work is believed (the default). */
  None,
  /**
   * Sampled checkpoint intervals are replayed on another provider and the parameters compared with
   * the committed ones; a mismatch is bisected and refereed.
   */
  SpotCheck
}
