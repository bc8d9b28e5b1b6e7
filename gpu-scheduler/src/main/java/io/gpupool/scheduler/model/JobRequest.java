package io.gpupool.scheduler.model;

import java.util.List;
import java.util.Objects;

/**
 * A request for a gang of {@code workers} × {@code gpusPerWorker} GPUs, placed all or nothing.
 *
 * @param gpuMilli per-GPU share in thousandths; below 1000 only for one-GPU workers (small
 *     inference replicas) on shared nodes
 * @param allowedProducts GPU products accepted (any GFD spelling); empty = any
 * @param minGpuMemoryMib minimum memory per GPU
 * @param allowedRegions empty = any
 * @param maxPricePerGpuHour {@code Double.POSITIVE_INFINITY} = no limit
 * @param minReliability 0 = any node
 * @param weights the weights each worker loads at start, or null: nodes that already hold them are
 *     preferred (see {@link CachedWeights})
 * @param preferredNodes weighted node preferences (a pod's preferred node affinity): among feasible
 *     plans the one whose GPUs sit on nodes of more preferred weight wins before price
 *     (docs/scheduling.md, "Preferred nodes"); empty = none
 */
public record JobRequest(
    String id,
    JobKind kind,
    Strategy strategy,
    int workers,
    int gpusPerWorker,
    int minWorkers,
    int gpuMilli,
    List<String> allowedProducts,
    long minGpuMemoryMib,
    long cpuMillisPerWorker,
    long memoryMibPerWorker,
    List<String> allowedRegions,
    double maxPricePerGpuHour,
    double minReliability,
    ModelSpec model,
    ModelWeights weights,
    List<PreferredNodeTerm> preferredNodes) {

  public JobRequest {
    Objects.requireNonNull(id);
    Objects.requireNonNull(kind);
    Objects.requireNonNull(strategy);
    allowedProducts = List.copyOf(allowedProducts);
    allowedRegions = List.copyOf(allowedRegions);
    preferredNodes = preferredNodes == null ? List.of() : List.copyOf(preferredNodes);
    if (workers < 1 || gpusPerWorker < 1 || minWorkers < 1 || minWorkers > workers) {
      throw new IllegalArgumentException("need 1 <= minWorkers <= workers and gpusPerWorker >= 1");
    }
    if (gpuMilli < 1 || gpuMilli > 1000 || (gpuMilli < 1000 && gpusPerWorker != 1)) {
      throw new IllegalArgumentException("fractional GPUs only for one-GPU workers");
    }
    if (maxPricePerGpuHour < 0 || minReliability < 0 || minReliability > 1) {
      throw new IllegalArgumentException("bad price or reliability bound");
    }
  }

  /** A builder with permissive defaults: one worker, one whole GPU, AUTO, no constraints. */
  public static Builder builder(String id, ModelSpec model) {
    return new Builder(id, model);
  }

  /** A copy with another worker count (for elastic shrink). */
  public JobRequest withWorkers(int n) {
    return new JobRequest(
        id,
        kind,
        strategy,
        n,
        gpusPerWorker,
        Math.min(minWorkers, n),
        gpuMilli,
        allowedProducts,
        minGpuMemoryMib,
        cpuMillisPerWorker,
        memoryMibPerWorker,
        allowedRegions,
        maxPricePerGpuHour,
        minReliability,
        model,
        weights,
        preferredNodes);
  }

  /** Mutable builder for {@link JobRequest}. */
  public static final class Builder {
    private final String id;
    private final ModelSpec model;
    private JobKind kind = JobKind.TRAINING;
    private Strategy strategy = Strategy.AUTO;
    private int workers = 1;
    private int gpusPerWorker = 1;
    private int minWorkers = -1;
    private int gpuMilli = 1000;
    private List<String> products = List.of();
    private long minMem;
    private long cpu;
    private long mem;
    private List<String> regions = List.of();
    private double maxPrice = Double.POSITIVE_INFINITY;
    private double minRel;
    private ModelWeights weights;
    private List<PreferredNodeTerm> preferred = List.of();

    private Builder(String id, ModelSpec model) {
      this.id = id;
      this.model = model;
    }

    public Builder kind(JobKind v) {
      kind = v;
      return this;
    }

    public Builder strategy(Strategy v) {
      strategy = v;
      return this;
    }

    public Builder workers(int n, int gpusEach) {
      workers = n;
      gpusPerWorker = gpusEach;
      return this;
    }

    public Builder minWorkers(int v) {
      minWorkers = v;
      return this;
    }

    public Builder gpuMilli(int v) {
      gpuMilli = v;
      return this;
    }

    public Builder products(String... v) {
      products = List.of(v);
      return this;
    }

    public Builder minGpuMemoryMib(long v) {
      minMem = v;
      return this;
    }

    public Builder perWorker(long cpuMillis, long memoryMib) {
      cpu = cpuMillis;
      mem = memoryMib;
      return this;
    }

    public Builder regions(String... v) {
      regions = List.of(v);
      return this;
    }

    public Builder maxPricePerGpuHour(double v) {
      maxPrice = v;
      return this;
    }

    public Builder minReliability(double v) {
      minRel = v;
      return this;
    }

    /** The weights workers load at start; nodes that already cache them are preferred. */
    public Builder weights(ModelWeights v) {
      weights = v;
      return this;
    }

    /** Weighted node preferences (a pod template's preferred node affinity). */
    public Builder preferredNodes(List<PreferredNodeTerm> v) {
      preferred = v;
      return this;
    }

    public JobRequest build() {
      return new JobRequest(
          id,
          kind,
          strategy,
          workers,
          gpusPerWorker,
          minWorkers < 0 ? workers : minWorkers,
          gpuMilli,
          products,
          minMem,
          cpu,
          mem,
          regions,
          maxPrice,
          minRel,
          model,
          weights,
          preferred);
    }
  }
}
