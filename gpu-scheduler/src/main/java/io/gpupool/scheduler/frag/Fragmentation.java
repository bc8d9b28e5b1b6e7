package io.gpupool.scheduler.frag;

/**
 * The FGD fragmentation measure of one node against a workload mix (Weng et al., ATC 2023).
 *
 * <p>For a task class {@code m}, the node's fragment {@code F(m)} is the free GPU capacity that
 * {@code m} cannot use: all free milli-GPUs if {@code m} needs no GPU or cannot fit on the node at
 * all (model, CPU or GPU count), otherwise the free milli of the GPUs with less free than {@code m}
 * needs on each GPU. The node's fragmentation is {@code Σ weight(m) · F(m)}.
 *
 * <p>{@link #withCpuStranding} adds what that measure misses: it asks of each class whether one
 * more task fits, never whether the node's CPU can feed all of its free GPUs. A node whose free CPU
 * is short for its free GPUs at the workload's CPU-per-GPU ratio strands the difference, whichever
 * classes arrive.
 */
public final class Fragmentation {
  private Fragmentation() {}

  /**
   * @param free free milli-GPU of each GPU (only the first {@code gpus} entries are read)
   * @param gpus number of GPUs on the node
   * @param cpuFree free CPU milli on the node
   * @param modelBit the node's GPU model bit
   * @param mix the weighted task classes
   */
  public static double of(
      int[] free, int gpus, long cpuFree, long modelBit, WorkloadMix.Weighted[] mix) {
    long total = 0;
    for (int i = 0; i < gpus; i++) {
      total += free[i];
    }
    if (total == 0) {
      return 0;
    }
    double f = 0;
    for (WorkloadMix.Weighted w : mix) {
      f += w.weight() * fragmentFor(free, gpus, total, cpuFree, modelBit, w.taskClass());
    }
    return f;
  }

  /**
   * FGD's measure plus {@link #cpuStranded}: the score our own policy minimises (FGD as published
   * uses {@link #of} alone).
   */
  public static double withCpuStranding(
      int[] free, int gpus, long cpuFree, long modelBit, WorkloadMix mix) {
    double f = of(free, gpus, cpuFree, modelBit, mix.classes());
    long total = 0;
    for (int i = 0; i < gpus; i++) {
      total += free[i];
    }
    return f + cpuStranded(total, cpuFree, mix.cpuPerGpuMilli());
  }

  /**
   * Free milli-GPUs that {@code cpuFree} cannot feed when each milli-GPU arrives with {@code
   * cpuPerGpuMilli} CPU milli (0 when the ratio is unknown).
   */
  public static double cpuStranded(long freeMilli, long cpuFree, double cpuPerGpuMilli) {
    if (cpuPerGpuMilli <= 0) {
      return 0;
    }
    return Math.max(0, freeMilli - cpuFree / cpuPerGpuMilli);
  }

  /** {@code F(m)} in milli-GPUs for one class. */
  public static long fragmentFor(
      int[] free, int gpus, long total, long cpuFree, long modelBit, TaskClass c) {
    if (!c.needsGpu() || !c.acceptsModel(modelBit) || cpuFree < c.cpuMilli()) {
      return total;
    }
    int fitting = 0;
    long small = 0;
    for (int i = 0; i < gpus; i++) {
      if (free[i] >= c.gpuMilli()) {
        fitting++;
      } else {
        small += free[i];
      }
    }
    return fitting >= c.numGpu() ? small : total;
  }
}
