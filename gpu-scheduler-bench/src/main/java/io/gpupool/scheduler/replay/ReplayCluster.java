package io.gpupool.scheduler.replay;

import io.gpupool.scheduler.frag.ModelBits;
import io.gpupool.scheduler.frag.TaskClass;
import java.util.List;

/**
 * Mutable free-capacity state of a replayed cluster, kept in flat arrays for speed. Placement
 * checks every resource, so a GPU can never be allocated beyond 1000 milli.
 */
final class ReplayCluster {
  final int size;
  final String[] names;
  final long[] cpuFree;
  final long[] memFree;
  final long[] modelBit;
  final int[] gpus;
  final int[][] free;

  /** Incremented on every change of a node, to invalidate cached scores. */
  final int[] version;

  final long capacityMilli;
  long allocatedMilli;
  final long maxCpu;
  final long maxGpuMilli;

  ReplayCluster(List<TraceNode> nodes, ModelBits bits) {
    size = nodes.size();
    names = new String[size];
    cpuFree = new long[size];
    memFree = new long[size];
    modelBit = new long[size];
    gpus = new int[size];
    free = new int[size][];
    version = new int[size];
    long cap = 0;
    long mc = 1;
    long mg = 1;
    for (int i = 0; i < size; i++) {
      TraceNode n = nodes.get(i);
      names[i] = n.name();
      cpuFree[i] = n.cpuMilli();
      memFree[i] = n.memoryMib();
      modelBit[i] = n.model().isEmpty() ? 0 : bits.bit(n.model());
      gpus[i] = n.gpus();
      free[i] = new int[Math.max(1, n.gpus())];
      for (int g = 0; g < n.gpus(); g++) {
        free[i][g] = 1000;
      }
      cap += 1000L * n.gpus();
      mc = Math.max(mc, n.cpuMilli());
      mg = Math.max(mg, 1000L * n.gpus());
    }
    capacityMilli = cap;
    maxCpu = mc;
    maxGpuMilli = mg;
  }

  long freeGpuMilli(int node) {
    long t = 0;
    for (int g = 0; g < gpus[node]; g++) {
      t += free[node][g];
    }
    return t;
  }

  int fullyFreeGpus(int node) {
    int c = 0;
    for (int g = 0; g < gpus[node]; g++) {
      if (free[node][g] == 1000) {
        c++;
      }
    }
    return c;
  }

  /** Whether the pod fits the node at all: CPU, memory, GPU model and GPU capacity. */
  boolean fits(int node, ReplayPod p) {
    TaskClass c = p.cls();
    if (cpuFree[node] < c.cpuMilli() || memFree[node] < p.memoryMib()) {
      return false;
    }
    if (!c.needsGpu()) {
      return true;
    }
    if (gpus[node] == 0 || !c.acceptsModel(modelBit[node])) {
      return false;
    }
    int fitting = 0;
    int[] f = free[node];
    for (int g = 0; g < gpus[node]; g++) {
      if (f[g] >= c.gpuMilli()) {
        fitting++;
      }
    }
    return fitting >= c.numGpu();
  }

  /**
   * Default GPU choice inside a node: a fractional task takes the fitting GPU with the least free
   * (best fit); whole-GPU tasks take the lowest-indexed GPUs that fit, fullest first.
   */
  int[] defaultGpus(int node, ReplayPod p) {
    TaskClass c = p.cls();
    if (!c.needsGpu()) {
      return new int[0];
    }
    int[] f = free[node];
    int[] out = new int[c.numGpu()];
    boolean[] used = new boolean[gpus[node]];
    for (int k = 0; k < out.length; k++) {
      int best = -1;
      for (int g = 0; g < gpus[node]; g++) {
        if (!used[g] && f[g] >= c.gpuMilli() && (best < 0 || f[g] < f[best])) {
          best = g;
        }
      }
      if (best < 0) {
        throw new IllegalStateException("pod does not fit node " + names[node]);
      }
      used[best] = true;
      out[k] = best;
    }
    return out;
  }

  void place(int node, ReplayPod p, int[] gpuIdx) {
    if (!fits(node, p)) {
      throw new IllegalStateException("over-allocation of " + names[node]);
    }
    TaskClass c = p.cls();
    if (c.needsGpu() && gpuIdx.length != c.numGpu()) {
      throw new IllegalStateException("wrong GPU count");
    }
    for (int g : gpuIdx) {
      if (free[node][g] < c.gpuMilli()) {
        throw new IllegalStateException("GPU " + g + " of " + names[node] + " over-allocated");
      }
    }
    cpuFree[node] -= c.cpuMilli();
    memFree[node] -= p.memoryMib();
    for (int g : gpuIdx) {
      free[node][g] -= c.gpuMilli();
      allocatedMilli += c.gpuMilli();
    }
    version[node]++;
  }
}
