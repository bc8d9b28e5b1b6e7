package io.gpupool.operator.training;

import io.gpupool.api.v1alpha1.RestartPolicy;

/**
 * Whether a failed gang restarts, with PyTorchJob's meaning of each restart policy. Node losses are
 * not the workload's fault and are decided elsewhere; this is about containers that failed.
 */
public record RestartDecision(boolean restart, String reason, String message) {

  /**
   * @param exitCode the failed container's exit code, or null when unknown (pod deleted, evicted)
   * @param restartsSoFar gang restarts already made for failures
   */
  public static RestartDecision forFailure(
      RestartPolicy policy, Integer exitCode, int restartsSoFar, int backoffLimit, String what) {
    RestartPolicy p = policy == null ? RestartPolicy.OnFailure : policy;
    if (p == RestartPolicy.Never) {
      return new RestartDecision(false, "RestartPolicyNever", what + "; restartPolicy is Never");
    }
    if (p == RestartPolicy.ExitCode && exitCode != null && exitCode >= 1 && exitCode <= 127) {
      return new RestartDecision(
          false,
          "PermanentExitCode",
          what + "; exit code " + exitCode + " is permanent under restartPolicy ExitCode (1-127)");
    }
    if (restartsSoFar >= backoffLimit) {
      return new RestartDecision(
          false, "BackoffLimitExceeded", what + "; backoffLimit " + backoffLimit + " reached");
    }
    return new RestartDecision(
        true, "Restarting", what + "; restart " + (restartsSoFar + 1) + " of " + backoffLimit);
  }
}
