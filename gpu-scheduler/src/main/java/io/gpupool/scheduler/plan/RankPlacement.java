package io.gpupool.scheduler.plan;

import java.util.Arrays;

/**
 * Where one rank (worker) runs and what it does.
 *
 * @param replica replica index for inference groups (0 for training)
 * @param gpuIndices GPU indices on the node
 * @param milliPerGpu 1000 for whole GPUs, less for a share of a shared GPU
 * @param stage pipeline stage index (0 for data parallel)
 * @param firstLayer first layer held (inclusive); all layers for data parallel
 * @param lastLayer last layer held (inclusive)
 * @param batchShare fraction of the global batch this rank processes (data parallel); for pipeline
 *     stages every stage sees the whole batch (1.0)
 */
public record RankPlacement(
    int rank,
    int replica,
    String node,
    String provider,
    String region,
    String zone,
    String gpuProduct,
    int[] gpuIndices,
    int milliPerGpu,
    int stage,
    int firstLayer,
    int lastLayer,
    double batchShare) {

  public RankPlacement {
    gpuIndices = gpuIndices.clone();
  }

  @Override
  public int[] gpuIndices() {
    return gpuIndices.clone();
  }

  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT,
        "rank %d on %s %s%s%s stage %d layers %d-%d batch %.3f",
        rank,
        node,
        gpuProduct,
        Arrays.toString(gpuIndices),
        milliPerGpu < 1000 ? "x" + milliPerGpu + "m" : "",
        stage,
        firstLayer,
        lastLayer,
        batchShare);
  }
}
