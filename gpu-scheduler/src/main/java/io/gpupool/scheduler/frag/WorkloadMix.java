package io.gpupool.scheduler.frag;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The expected workload as a popularity-weighted set of task classes.
 *
 * <p>Learned online with {@link #observe}: every arriving task is counted, and {@link #classes()}
 * returns the most popular classes that together cover {@code coverage} of the tasks seen, each
 * weighted by its share of all tasks seen. It also learns the CPU that arrives with each milli-GPU
 * ({@link #cpuPerGpuMilli}). The {@link #version()} moves whenever either may have changed, so
 * callers can cache scores computed against them.
 */
public final class WorkloadMix {
  /** A task class and its popularity (share of tasks). */
  public record Weighted(TaskClass taskClass, double weight) {}

  private final Map<TaskClass, long[]> counts = new HashMap<>();
  private final double coverage;
  private final int refreshEvery;
  private final boolean keepConstrained;
  private java.util.function.LongToDoubleFunction constrainedScale = mask -> 1.0;
  private long total;
  private double gpuTaskCpu;
  private double gpuTaskGpuMilli;
  private double cpuPerGpuMilli;
  private long sinceRefresh;
  private long version;
  private Weighted[] current = new Weighted[0];

  /**
   * @param coverage share of tasks the returned classes must cover (the FGD paper uses 0.95)
   * @param refreshEvery recompute the class list after this many new observations (1 = always)
   */
  public WorkloadMix(double coverage, int refreshEvery) {
    this(coverage, refreshEvery, false);
  }

  /**
   * @param keepConstrained also keep every class restricted to some GPU models, however rare: they
   *     are what makes a scarce model's nodes worth keeping free, and each one is rare on its own
   */
  public WorkloadMix(double coverage, int refreshEvery, boolean keepConstrained) {
    if (coverage <= 0 || coverage > 1 || refreshEvery < 1) {
      throw new IllegalArgumentException("coverage in (0,1], refreshEvery >= 1");
    }
    this.coverage = coverage;
    this.refreshEvery = refreshEvery;
    this.keepConstrained = keepConstrained;
  }

  /** A mix fixed in advance from a list of tasks (how FGD is told a trace's mix). */
  public static WorkloadMix fixed(Collection<TaskClass> tasks, double coverage) {
    WorkloadMix mix = new WorkloadMix(coverage, Integer.MAX_VALUE);
    for (TaskClass t : tasks) {
      mix.count(t);
    }
    mix.recompute();
    return mix;
  }

  /**
   * Scales the weight of each model-constrained class (by its model mask) — e.g. by how small a
   * share of the pool it can use, since its fragmentation concentrates on those nodes.
   */
  public void constrainedScale(java.util.function.LongToDoubleFunction scale) {
    this.constrainedScale = scale;
    recompute();
  }

  /** Records one arriving task. */
  public void observe(TaskClass t) {
    count(t);
    sinceRefresh++;
    // Refresh often while the sample is small, then every refreshEvery tasks.
    if (total <= 64 ? Long.bitCount(total) == 1 : sinceRefresh >= refreshEvery) {
      recompute();
    }
  }

  private void count(TaskClass t) {
    counts.computeIfAbsent(t, k -> new long[1])[0]++;
    total++;
    // CPU-only tasks are left out: they can run on any node with CPU to spare, so they say
    // nothing about the CPU a GPU needs next to it to be usable.
    if (t.needsGpu()) {
      gpuTaskCpu += t.cpuMilli();
      gpuTaskGpuMilli += t.totalGpuMilli();
    }
  }

  /**
   * CPU milli requested per milli-GPU by the GPU tasks seen so far (CPU-only tasks excluded), as of
   * the last refresh; 0 before any GPU task.
   */
  public double cpuPerGpuMilli() {
    return cpuPerGpuMilli;
  }

  /** Tasks observed so far. */
  public long observed() {
    return total;
  }

  /** Changes whenever {@link #classes()} may return something different. */
  public long version() {
    return version;
  }

  /** The popular classes with their weights; empty before anything is observed. */
  public Weighted[] classes() {
    return current;
  }

  private void recompute() {
    sinceRefresh = 0;
    List<Map.Entry<TaskClass, long[]>> entries = new ArrayList<>(counts.entrySet());
    entries.sort(
        Comparator.comparingLong((Map.Entry<TaskClass, long[]> e) -> -e.getValue()[0])
            .thenComparing(e -> e.getKey().toString()));
    List<Weighted> out = new ArrayList<>();
    long covered = 0;
    for (Map.Entry<TaskClass, long[]> e : entries) {
      if (covered >= coverage * total && !(keepConstrained && e.getKey().modelMask() != 0)) {
        continue;
      }
      covered += e.getValue()[0];
      double w = (double) e.getValue()[0] / total;
      if (keepConstrained && e.getKey().modelMask() != 0) {
        w *= constrainedScale.applyAsDouble(e.getKey().modelMask());
      }
      out.add(new Weighted(e.getKey(), w));
    }
    current = out.toArray(new Weighted[0]);
    cpuPerGpuMilli = gpuTaskGpuMilli == 0 ? 0 : gpuTaskCpu / gpuTaskGpuMilli;
    version++;
  }
}
