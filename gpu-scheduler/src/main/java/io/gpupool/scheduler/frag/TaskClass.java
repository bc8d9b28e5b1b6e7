package io.gpupool.scheduler.frag;

/**
 * The resource shape of one kind of task, as the fragmentation measure sees it.
 *
 * @param cpuMilli CPU the task needs on its node
 * @param gpuMilli thousandths of a GPU needed on each of its GPUs (1000 = a whole GPU)
 * @param numGpu GPUs needed (0 = a CPU-only task)
 * @param modelMask bit set of GPU models the task accepts (see {@link ModelBits}); 0 = any model
 */
public record TaskClass(long cpuMilli, int gpuMilli, int numGpu, long modelMask) {

  public TaskClass {
    if (cpuMilli < 0 || gpuMilli < 0 || gpuMilli > 1000 || numGpu < 0) {
      throw new IllegalArgumentException(
          "bad task class " + cpuMilli + "/" + gpuMilli + "/" + numGpu);
    }
  }

  /** True when the task needs any GPU at all. */
  public boolean needsGpu() {
    return numGpu > 0 && gpuMilli > 0;
  }

  /** True when the task needs a fraction of a single GPU. */
  public boolean isSharing() {
    return numGpu == 1 && gpuMilli < 1000;
  }

  /** True when a node carrying GPU model bit {@code modelBit} is acceptable. */
  public boolean acceptsModel(long modelBit) {
    return modelMask == 0 || (modelMask & modelBit) != 0;
  }

  /** Total GPU demand in milli-GPUs. */
  public long totalGpuMilli() {
    return (long) numGpu * gpuMilli;
  }
}
