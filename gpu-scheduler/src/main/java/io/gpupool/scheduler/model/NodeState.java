package io.gpupool.scheduler.model;

/** Free capacity of one node: milli-GPU per GPU, CPU and memory. Immutable. */
public final class NodeState {
  private final PoolNode node;
  private final int[] freeMilli;
  private final long cpuFree;
  private final long memoryFree;
  private final int wholeFree;

  NodeState(PoolNode node, int[] freeMilli, long cpuFree, long memoryFree) {
    this.node = node;
    this.freeMilli = freeMilli;
    this.cpuFree = cpuFree;
    this.memoryFree = memoryFree;
    int c = 0;
    for (int f : freeMilli) {
      if (f == 1000) {
        c++;
      }
    }
    this.wholeFree = c;
  }

  static NodeState empty(PoolNode n) {
    int[] f = new int[n.gpuCount()];
    java.util.Arrays.fill(f, 1000);
    return new NodeState(n, f, n.cpuMillis(), n.memoryMib());
  }

  public PoolNode node() {
    return node;
  }

  /** Free milli-GPU of GPU {@code i}. */
  public int freeMilli(int i) {
    return freeMilli[i];
  }

  /** A copy of the free milli-GPU of every GPU. */
  public int[] freeMilli() {
    return freeMilli.clone();
  }

  int[] freeMilliUnsafe() {
    return freeMilli;
  }

  public long cpuFree() {
    return cpuFree;
  }

  public long memoryFree() {
    return memoryFree;
  }

  /** GPUs with nothing allocated. */
  public int wholeFree() {
    return wholeFree;
  }

  /** Total free milli-GPU. */
  public long freeMilliTotal() {
    long t = 0;
    for (int f : freeMilli) {
      t += f;
    }
    return t;
  }

  /**
   * The GPUs a worker of {@code gpus} GPUs × {@code milli} would take here, or null if it does not
   * fit. Fractions go only to shared nodes, onto the fullest GPU that fits (best fit); whole GPUs
   * are taken lowest index first.
   */
  public int[] pick(int gpus, int milli, long cpu, long mem) {
    if (cpu > cpuFree || mem > memoryFree || gpus > freeMilli.length) {
      return null;
    }
    if (milli < 1000 && !node.shared()) {
      return null;
    }
    int[] out = new int[gpus];
    boolean[] used = new boolean[freeMilli.length];
    for (int k = 0; k < gpus; k++) {
      int best = -1;
      for (int g = 0; g < freeMilli.length; g++) {
        if (!used[g] && freeMilli[g] >= milli && (best < 0 || freeMilli[g] < freeMilli[best])) {
          best = g;
        }
      }
      if (best < 0) {
        return null;
      }
      used[best] = true;
      out[k] = best;
    }
    return out;
  }

  /** This state after an allocation; throws if anything would be over-allocated. */
  public NodeState after(Allocation a) {
    int[] f = freeMilli.clone();
    for (int g : a.gpuIndices()) {
      if (g < 0 || g >= f.length) {
        throw new IllegalStateException(a + ": no GPU " + g + " on " + node.name());
      }
      if (a.milliPerGpu() < 1000 && !node.shared()) {
        throw new IllegalStateException(a + ": fraction of an unshared GPU on " + node.name());
      }
      if (f[g] < a.milliPerGpu()) {
        throw new IllegalStateException(
            a + ": GPU " + g + " of " + node.name() + " has only " + f[g] + " milli free");
      }
      f[g] -= a.milliPerGpu();
    }
    if (a.cpuMillis() > cpuFree || a.memoryMib() > memoryFree) {
      throw new IllegalStateException(a + ": CPU or memory over-allocated on " + node.name());
    }
    return new NodeState(node, f, cpuFree - a.cpuMillis(), memoryFree - a.memoryMib());
  }
}
