package io.gpupool.api.v1alpha1;

/** How two replicas' answers to the same canary are compared. */
public enum CanaryComparison {
  /** The generated tokens must be identical (servers whose greedy decoding is deterministic). */
  ExactTokens,
  /**
   * The per-token log-probabilities the servers report must agree within {@code tolerance} (mean
   * absolute difference); a token flip where both servers' log-probabilities stay within the
   * tolerance counts as agreement (a near tie decided differently by unlike GPUs).
   */
  Logprob
}
