package io.gpupool.scheduler.model;

import java.util.Arrays;

/**
 * What one job holds on one node: GPUs (each either whole, {@code milliPerGpu = 1000}, or a
 * fraction of a shared GPU), CPU and memory.
 */
public record Allocation(
    String jobId, String node, int[] gpuIndices, int milliPerGpu, long cpuMillis, long memoryMib) {

  public Allocation {
    gpuIndices = gpuIndices.clone();
    if (milliPerGpu < 0 || milliPerGpu > 1000 || cpuMillis < 0 || memoryMib < 0) {
      throw new IllegalArgumentException("bad allocation for " + jobId);
    }
  }

  @Override
  public int[] gpuIndices() {
    return gpuIndices.clone();
  }

  /** Milli-GPUs held in total. */
  public long totalMilli() {
    return (long) gpuIndices.length * milliPerGpu;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Allocation a
        && a.jobId.equals(jobId)
        && a.node.equals(node)
        && Arrays.equals(a.gpuIndices, gpuIndices)
        && a.milliPerGpu == milliPerGpu
        && a.cpuMillis == cpuMillis
        && a.memoryMib == memoryMib;
  }

  @Override
  public int hashCode() {
    return jobId.hashCode() * 31 + node.hashCode() * 17 + Arrays.hashCode(gpuIndices);
  }

  @Override
  public String toString() {
    return jobId + "@" + node + Arrays.toString(gpuIndices) + "x" + milliPerGpu + "m";
  }
}
