package io.gpupool.scheduler.replay;

import java.util.List;

/**
 * One task of an Alibaba-format pod list.
 *
 * @param allowedModels {@code gpu_spec} split on {@code |}; empty = any model
 */
public record TracePod(
    String name,
    long cpuMilli,
    long memoryMib,
    int numGpu,
    int gpuMilli,
    List<String> allowedModels) {

  /** The GPU request in milli-GPUs: {@code num_gpu × gpu_milli}. */
  public long totalGpuMilli() {
    return (long) numGpu * gpuMilli;
  }
}
