package io.gpupool.scheduler.replay;

import io.gpupool.scheduler.frag.Fragmentation;
import io.gpupool.scheduler.frag.TaskClass;
import io.gpupool.scheduler.frag.WorkloadMix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Incremental FGD scoring: the growth of a node's fragmentation if a pod of a given class were
 * placed there. Results are cached per (node, pod class) and reused until the node changes or the
 * workload mix changes, so each arriving pod costs one cache probe per node plus a recomputation
 * for the single node changed by the previous placement.
 */
final class FragScorer {
  private final WorkloadMix mix;
  private final List<double[]> growth = new ArrayList<>();
  private final List<int[]> gpuChoice = new ArrayList<>();
  private final List<long[]> stamp = new ArrayList<>();
  private double[] current;
  private long[] currentStamp;
  private int[] scratch = new int[16];

  private final boolean cpuStranding;

  /**
   * @param cpuStranding score with {@link Fragmentation#withCpuStranding} (our policy) instead of
   *     FGD's {@link Fragmentation#of}
   */
  FragScorer(WorkloadMix mix, boolean cpuStranding) {
    this.mix = mix;
    this.cpuStranding = cpuStranding;
  }

  WorkloadMix mix() {
    return mix;
  }

  /**
   * Fragmentation growth of placing {@code pod} on {@code node} (which must fit it), with the
   * fractional GPU that minimises it written to {@link #lastGpu}.
   */
  double growth(ReplayCluster c, int node, ReplayPod pod) {
    ensure(c, pod.classId());
    long st = (mix.version() << 32) | c.version[node];
    int id = pod.classId();
    long[] s = stamp.get(id);
    if (s[node] == st) {
      lastGpu = gpuChoice.get(id)[node];
      return growth.get(id)[node];
    }
    double before = current(c, node, st);
    TaskClass cls = pod.cls();
    int gpus = c.gpus[node];
    if (scratch.length < gpus) {
      scratch = new int[gpus];
    }
    int[] f = c.free[node];
    long cpuAfter = c.cpuFree[node] - cls.cpuMilli();
    double best;
    int bestGpu = -1;
    if (cls.isSharing()) {
      best = Double.POSITIVE_INFINITY;
      for (int g = 0; g < gpus; g++) {
        if (f[g] < cls.gpuMilli() || (bestGpu >= 0 && f[g] == f[bestGpu])) {
          continue; // GPUs with equal free capacity give the same result
        }
        System.arraycopy(f, 0, scratch, 0, gpus);
        scratch[g] -= cls.gpuMilli();
        double after = fragmentation(scratch, gpus, cpuAfter, c.modelBit[node]);
        if (after < best || (after == best && f[g] < f[bestGpu])) {
          best = after;
          bestGpu = g;
        }
      }
    } else {
      System.arraycopy(f, 0, scratch, 0, gpus);
      if (cls.needsGpu()) {
        for (int g : c.defaultGpus(node, pod)) {
          scratch[g] -= cls.gpuMilli();
        }
      }
      best = fragmentation(scratch, gpus, cpuAfter, c.modelBit[node]);
    }
    double delta = best - before;
    growth.get(id)[node] = delta;
    gpuChoice.get(id)[node] = bestGpu;
    s[node] = st;
    lastGpu = bestGpu;
    return delta;
  }

  /** The GPU chosen by the last {@link #growth} call for a fractional pod (-1 otherwise). */
  int lastGpu;

  private double current(ReplayCluster c, int node, long st) {
    if (currentStamp[node] != st) {
      current[node] = fragmentation(c.free[node], c.gpus[node], c.cpuFree[node], c.modelBit[node]);
      currentStamp[node] = st;
    }
    return current[node];
  }

  private double fragmentation(int[] free, int gpus, long cpuFree, long modelBit) {
    return cpuStranding
        ? Fragmentation.withCpuStranding(free, gpus, cpuFree, modelBit, mix)
        : Fragmentation.of(free, gpus, cpuFree, modelBit, mix.classes());
  }

  private void ensure(ReplayCluster c, int classId) {
    if (current == null) {
      current = new double[c.size];
      currentStamp = new long[c.size];
      Arrays.fill(currentStamp, -1);
    }
    while (growth.size() <= classId) {
      growth.add(new double[c.size]);
      gpuChoice.add(new int[c.size]);
      long[] s = new long[c.size];
      Arrays.fill(s, -1);
      stamp.add(s);
    }
  }
}
