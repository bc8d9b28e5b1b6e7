package io.gpupool.operator.inventory;

import java.time.Instant;
import java.util.Map;

/**
 * What the operator knows about one GPU node, read from its GFD labels and device-plugin resources.
 *
 * @param physicalGpus GPUs on the node ({@code nvidia.com/gpu.count})
 * @param replicasPerGpu schedulable shares per physical GPU (1 when not shared)
 * @param allocatableSlots what the device plugin advertises for whole-GPU requests: GPUs, or shares
 *     under time-slicing/MPS, or MIG slices under the single strategy
 * @param product the GFD product name without the {@code -SHARED} suffix
 * @param migDevices MIG devices under the mixed strategy, by profile (e.g. {@code 1g.10gb})
 * @param notReadySince when the Ready condition last left True, null while the node is Ready
 */
public record GpuNode(
    String name,
    String provider,
    String region,
    String zone,
    String product,
    String family,
    int computeMajor,
    int computeMinor,
    int physicalGpus,
    int memoryMiB,
    SharingStrategy sharing,
    int replicasPerGpu,
    String sharedResourceName,
    int allocatableSlots,
    Map<String, Integer> migDevices,
    long cpuMillis,
    long memoryBytes,
    boolean ready,
    Instant notReadySince,
    boolean schedulable) {

  public GpuNode {
    migDevices = Map.copyOf(migDevices);
  }

  /** True when placements must take GPU fractions (shares) rather than whole GPUs. */
  public boolean shared() {
    return replicasPerGpu > 1;
  }

  /** True when the node can take new work now. */
  public boolean usable() {
    return ready && schedulable;
  }
}
