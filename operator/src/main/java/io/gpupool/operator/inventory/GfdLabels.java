package io.gpupool.operator.inventory;

/**
 * Node labels and resources written by NVIDIA GPU Feature Discovery and the device plugin, and the
 * standard topology labels (see docs/scheduling.md and kubernetes-gpu-conventions).
 */
public final class GfdLabels {
  public static final String PRESENT = "nvidia.com/gpu.present";
  public static final String PRODUCT = "nvidia.com/gpu.product";
  public static final String COUNT = "nvidia.com/gpu.count";
  public static final String MEMORY = "nvidia.com/gpu.memory";
  public static final String FAMILY = "nvidia.com/gpu.family";
  public static final String COMPUTE_MAJOR = "nvidia.com/gpu.compute.major";
  public static final String COMPUTE_MINOR = "nvidia.com/gpu.compute.minor";
  public static final String REPLICAS = "nvidia.com/gpu.replicas";
  public static final String SHARING_STRATEGY = "nvidia.com/gpu.sharing-strategy";
  public static final String MIG_STRATEGY = "nvidia.com/mig.strategy";
  public static final String DRIVER_VERSION = "nvidia.com/cuda.driver-version.full";

  public static final String REGION = "topology.kubernetes.io/region";
  public static final String ZONE = "topology.kubernetes.io/zone";
  public static final String HOSTNAME = "kubernetes.io/hostname";

  /** Whole GPUs, or time-sliced/MPS replicas when sharing is on and not renamed. */
  public static final String GPU_RESOURCE = "nvidia.com/gpu";

  /** Shared replicas when the sharing config sets {@code renameByDefault: true}. */
  public static final String SHARED_GPU_RESOURCE = "nvidia.com/gpu.shared";

  /** Prefix of MIG devices under the mixed strategy, e.g. {@code nvidia.com/mig-1g.10gb}. */
  public static final String MIG_RESOURCE_PREFIX = "nvidia.com/mig-";

  /** Appended to the product name when GPUs are shared and the resource is not renamed. */
  public static final String SHARED_SUFFIX = "-SHARED";

  private GfdLabels() {}
}
