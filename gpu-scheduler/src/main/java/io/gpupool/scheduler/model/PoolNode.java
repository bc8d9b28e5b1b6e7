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
 * @param speedFactor share of its product's catalog speed the node delivers, in (0, 1]: 1 unless a
 *     hardware challenge measured it slower than its labels claim (the planner then rates its GPUs
 *     at the measured speed, see {@link GpuSpec#atSpeed})
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
    boolean ready,
    double speedFactor) {

  /** A node at its product's catalog speed. */
  public PoolNode(
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
    this(
        name,
        provider,
        region,
        zone,
        gpuProduct,
        gpuCount,
        gpuMemoryMib,
        sharingReplicas,
        cpuMillis,
        memoryMib,
        pricePerGpuHour,
        reliability,
        ready,
        1.0);
  }

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
    if (!(speedFactor > 0) || speedFactor > 1) {
      throw new IllegalArgumentException("speed factor must be in (0, 1]: " + name);
    }
  }

  /** This node rated at {@code factor} of its product's catalog speed. */
  public PoolNode withSpeedFactor(double factor) {
    return new PoolNode(
        name,
        provider,
        region,
        zone,
        gpuProduct,
        gpuCount,
        gpuMemoryMib,
        sharingReplicas,
        cpuMillis,
        memoryMib,
        pricePerGpuHour,
        reliability,
        ready,
        factor);
  }

  /** True when the node's GPUs may be handed out in fractions. */
  public boolean shared() {
    return sharingReplicas > 1;
  }
}
