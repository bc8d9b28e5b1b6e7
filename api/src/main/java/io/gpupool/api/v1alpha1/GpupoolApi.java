package io.gpupool.api.v1alpha1;

/** Names shared by the whole API and the labels the operator puts on what it creates. */
public final class GpupoolApi {
  public static final String GROUP = "gpupool.io";
  public static final String VERSION = "v1alpha1";
  public static final String API_VERSION = GROUP + "/" + VERSION;

  /** {@code kubectl get gpupool} lists every gpupool resource. */
  public static final String CATEGORY = "gpupool";

  /** Node label naming the GpuProvider that contributed the node. */
  public static final String PROVIDER_LABEL = "gpupool.io/provider";

  /** Label on every pod and service the operator creates: the owning job's name. */
  public static final String JOB_NAME_LABEL = "gpupool.io/job-name";

  /** Label on created objects: the owning job's kind (TrainingJob or InferenceJob). */
  public static final String JOB_KIND_LABEL = "gpupool.io/job-kind";

  private GpupoolApi() {}
}
