package io.gpupool.operator.training;

/**
 * Environment variable names gpupool sets on training pods, beyond the torchrun/PyTorchJob standard
 * ones. Documented in docs/crd-reference.md; images read them to take their part of a heterogeneous
 * split.
 */
public final class GangEnv {
  public static final String JOB_NAME = "GPUPOOL_JOB_NAME";
  public static final String STRATEGY = "GPUPOOL_STRATEGY";
  public static final String STAGE_INDEX = "GPUPOOL_STAGE_INDEX";
  public static final String STAGE_COUNT = "GPUPOOL_STAGE_COUNT";
  public static final String FIRST_LAYER = "GPUPOOL_FIRST_LAYER";
  public static final String LAST_LAYER = "GPUPOOL_LAST_LAYER";
  public static final String BATCH_SHARE = "GPUPOOL_BATCH_SHARE";
  public static final String LOCAL_BATCH_SIZE = "GPUPOOL_LOCAL_BATCH_SIZE";
  public static final String GPU_MODEL = "GPUPOOL_GPU_MODEL";
  public static final String RESTART_COUNT = "GPUPOOL_RESTART_COUNT";
  public static final String CHECKPOINT_URI = "GPUPOOL_CHECKPOINT_URI";
  public static final String CHECKPOINT_INTERVAL = "GPUPOOL_CHECKPOINT_INTERVAL_SECONDS";
  public static final String RESUME_FROM = "GPUPOOL_RESUME_FROM";

  /** With RESUME_FROM: the checkpoint step to load instead of the latest (a verified one). */
  public static final String RESUME_STEP = "GPUPOOL_RESUME_STEP";

  private GangEnv() {}
}
