package io.gpupool.scheduler.model;

import java.util.Objects;

/**
 * One node of the pool as the operator sees it.
 *
 * @param gpuProduct GFD {@code nvidia.com/gpu.product} value
 * @param gpuMemoryMib memory per GPU (GFD {@code nvidia.com/gpu.memory})
 * @param sharingReplicas time-slicing/MPS replicas per GPU; 1 = GPUs are not shared, and only whole
 *     GPUs are handed out
 * @param pricePerGpuHour price of one whole GPU for one hour, in the pool's currency unit (a
 *     double: prices are estimates used for ranking, billing lives elsewhere)
 * @param reliability probability-like score in [0, 1] that the node stays up for an hour
 */
public record PoolNode(
    String name,
    String provider,
    String region,
    String zone,
    String gpuProduct,
    int gpuCount,
    long gpuMemoryMib,
    int sharingReplicas,
    long cpuMillis,
    long memoryMib,
    double pricePerGpuHour,
    double reliability,
    boolean ready) {

  public PoolNode {
    Objects.requireNonNull(name);
    provider = provider == null ? "" : provider;
    region = region == null ? "" : region;
    zone = zone == null ? "" : zone;
    gpuProduct = gpuProduct == null ? "" : gpuProduct;
    if (gpuCount < 0 || gpuCount > 64 || sharingReplicas < 1 || cpuMillis < 0 || memoryMib < 0) {
      throw new IllegalArgumentException("bad capacity on node " + name);
    }
    if (pricePerGpuHour < 0 || reliability < 0 || reliability > 1) {
      throw new IllegalArgumentException("price must be >= 0 and reliability in [0,1]: " + name);
    }
  }

  /** True when the node's GPUs may be handed out in fractions. */
  public boolean shared() {
    return sharingReplicas > 1;
  }
}
