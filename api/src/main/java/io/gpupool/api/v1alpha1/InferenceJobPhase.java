package io.gpupool.api.v1alpha1;

/** Lifecycle of an InferenceJob. */
public enum InferenceJobPhase {
  /** No replica placed yet (see conditions). */
  Pending,
  /** Replicas placed, fewer than the minimum ready. */
  Deploying,
  /** At least the minimum replicas ready behind the endpoint. */
  Serving,
  /** Serving below the desired count while replacements are placed. */
  Degraded,
  Failed,
  Suspended
}
