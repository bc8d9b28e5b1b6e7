package io.gpupool.scheduler.frag;

/**
 * The FGD fragmentation measure of one node against a workload mix (Weng et al., ATC 2023).
 *
 * <p>For a task class {@code m}, the node's fragment {@code F(m)} is the free GPU capacity that
 * {@code m} cannot use: all free milli-GPUs if {@code m} needs no GPU or cannot fit on the node at
 * all (model, CPU or GPU count), otherwise the free milli of the GPUs with less free than {@code m}
 * needs on each GPU. The node's fragmentation is {@code Σ weight(m) · F(m)}.
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
