package io.gpupool.api.v1alpha1;

/** Whether the operator checks that an InferenceJob's replicas serve the model they claim to. */
public enum InferenceVerificationMode {
  /** No canaries: answers are not checked. */
  None,
  /**
   * Canary requests with greedy decoding go to replicas on different providers and their answers
   * are compared; a replica that disagrees with the majority is disputed and replaced.
   */
  CrossCheck
}
