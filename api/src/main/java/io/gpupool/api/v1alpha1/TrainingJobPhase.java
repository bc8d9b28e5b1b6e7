package io.gpupool.api.v1alpha1;

/** Lifecycle of a TrainingJob as kubectl shows it. */
public enum TrainingJobPhase {
  /** Waiting for a plan: invalid, unschedulable or not yet funded (see conditions). */
  Pending,
  /** Placed; its pods are being created or starting. */
  Scheduled,
  /** Every rank is running. */
  Running,
  Succeeded,
  Failed,
  /** spec.suspend is true: no pods, no usage. */
  Suspended
}
