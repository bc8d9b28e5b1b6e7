package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.frag.Fragmentation;
import io.gpupool.scheduler.frag.WorkloadMix;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.NodeState;

/**
 * How much putting one worker on a node grows its fragmentation (in GPUs), measured against the
 * workload mix learned so far: FGD's measure plus the GPU capacity the node's CPU can no longer
 * feed ({@link Fragmentation#withCpuStranding}, the measure of the replay's {@code gpupool}
 * policy); see docs/scheduling.md.
 */
final class FragmentationGrowth {
  private final WorkloadMix mix;
  private final PoolIndex index;

  FragmentationGrowth(WorkloadMix mix, PoolIndex index) {
    this.mix = mix;
    this.index = index;
  }

  /** Growth in GPUs; 0 before anything was learned or when the worker does not fit. */
  double of(NodeState st, JobRequest r) {
    WorkloadMix.Weighted[] w = mix.classes();
    if (w.length == 0) {
      return 0;
    }
    int[] gpus = st.pick(r.gpusPerWorker(), r.gpuMilli(), 0, 0);
    if (gpus == null) {
      return 0;
    }
    int[] free = st.freeMilli();
    long bit = index.modelBit(st.node());
    double before = Fragmentation.withCpuStranding(free, free.length, st.cpuFree(), bit, mix);
    for (int g : gpus) {
      free[g] -= r.gpuMilli();
    }
    double after =
        Fragmentation.withCpuStranding(
            free, free.length, st.cpuFree() - r.cpuMillisPerWorker(), bit, mix);
    return (after - before) / 1000.0;
  }
}
