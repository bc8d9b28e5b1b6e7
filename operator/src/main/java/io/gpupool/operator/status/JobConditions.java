package io.gpupool.operator.status;

/** Condition types on TrainingJob and InferenceJob status, named as Kubeflow users know them. */
public final class JobConditions {
  /** The spec passed the operator's checks. */
  public static final String SPEC_VALID = "SpecValid";

  /** The job has a placement; False with reason Unschedulable says why not. */
  public static final String SCHEDULED = "Scheduled";

  public static final String RUNNING = "Running";
  public static final String RESTARTING = "Restarting";
  public static final String SUCCEEDED = "Succeeded";
  public static final String FAILED = "Failed";
  public static final String SUSPENDED = "Suspended";

  /** The payer's escrow covers the next billing interval. */
  public static final String FUNDED = "Funded";

  private JobConditions() {}
}
