package io.gpupool.api.v1alpha1;

/** PyTorchJob's restart policies, with the same meaning. */
public enum RestartPolicy {
  /** Restart the gang whenever a worker exits, whatever the exit code. */
  Always,
  /** Restart the gang when a worker fails (the default). */
  OnFailure,
  /** Never restart: the first failure fails the job. */
  Never,
  /** Exit codes 1-127 are permanent failures; 128 and above (signals) are retried. */
  ExitCode
}
