package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.frag.ModelBits;
import io.gpupool.scheduler.frag.TaskClass;
import io.gpupool.scheduler.frag.WorkloadMix;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.List;
import java.util.Set;

/**
 * Places gangs of workers on a {@link PoolSnapshot} and plans how the job is split across them. The
 * work is done by {@link GangPlanner} (gangs, data parallel and pipeline), {@link
 * ReplicaGroupPlanner} (inference replicas larger than one worker) and {@link PlanRepair}; this
 * class wires them and learns the workload mix from the requests it plans, counting each job once
 * however often it is re-planned.
 *
 * <p>Not thread-safe: the operator calls it from one reconcile thread (it learns the workload mix
 * online from the requests it sees).
 */
public final class Scheduler {
  private final SchedulerConfig config;
  private final ModelBits bits = new ModelBits();
  private final WorkloadMix mix = new WorkloadMix(0.95, 64, true);
  private final JobArrivals arrivals;
  private final PoolIndex index;
  private final GangPlanner gangs;
  private final ReplicaGroupPlanner replicaGroups;
  private final PlanRepair repairs;

  public Scheduler(SchedulerConfig config) {
    this(config, JobArrivals.DEFAULT_CAPACITY);
  }

  /**
   * @param rememberedJobs how many job keys to remember so that re-plans of a job do not count
   *     again in the mix
   */
  Scheduler(SchedulerConfig config, int rememberedJobs) {
    this.config = config;
    this.arrivals = new JobArrivals(rememberedJobs);
    this.index = new PoolIndex(config, bits, mix);
    PlanObjective objective = new PlanObjective(config);
    CandidateFilter filter = new CandidateFilter(config, index);
    DataParallelPlanner dataParallel = new DataParallelPlanner(objective);
    PipelinePlanner pipeline = new PipelinePlanner(config, objective);
    this.gangs =
        new GangPlanner(
            config, index, filter, new FragmentationGrowth(mix, index), dataParallel, pipeline);
    this.replicaGroups = new ReplicaGroupPlanner(config, filter, pipeline);
    this.repairs = new PlanRepair(config, gangs, new StrategyChooser(dataParallel, pipeline));
  }

  public Scheduler() {
    this(SchedulerConfig.defaults());
  }

  public SchedulerConfig config() {
    return config;
  }

  /** The workload mix learned so far from the requests planned. */
  public WorkloadMix mix() {
    return mix;
  }

  /** Forgets cached node facts (call after changing the catalog). */
  public void invalidateCatalog() {
    index.invalidate();
  }

  /**
   * Plans a request on a snapshot: a {@link Plan} or an actionable {@link Unplaceable}. The first
   * request of each {@code r.id()} is counted in the workload mix; later ones (re-plans of a job
   * still pending, or another shape tried for the same job) are not.
   */
  public PlanResult plan(JobRequest r, PoolSnapshot snap) {
    if (arrivals.firstSighting(r.id())) {
      mix.observe(taskClass(r));
    }
    if (r.kind() == JobKind.INFERENCE && !replicaGroups.fitsOneWorker(r, snap)) {
      return planReplicaGroup(r, snap);
    }
    return gangs.plan(r, snap, Set.of(), List.of());
  }

  /**
   * Plans {@code r.workers()} inference replicas of a model too large for one GPU: each replica is
   * a group of shards, tensor-parallel over whole GPUs of one node when a node can hold it,
   * otherwise pipelined across nodes (each node one stage, tensor-parallel over its free GPUs,
   * layers split by the exact min-max program). Replicas are spread across providers and regions;
   * all replicas are placed or none.
   */
  public PlanResult planReplicaGroup(JobRequest r, PoolSnapshot snap) {
    return replicaGroups.plan(r, snap);
  }

  /**
   * Re-places only the ranks that were on {@code lostNodes}; when that is impossible and the
   * request's minWorkers allows, shrinks the job to its surviving ranks. {@code snapshot} is the
   * pool as it is now (it may or may not still list the lost nodes and the plan's allocations).
   */
  public PlanResult repair(Plan plan, Set<String> lostNodes, PoolSnapshot snapshot) {
    return repairs.repair(plan, lostNodes, snapshot);
  }

  private TaskClass taskClass(JobRequest r) {
    long mask = 0;
    for (String p : CandidateFilter.normalizedProducts(r)) {
      mask |= bits.bit(p);
    }
    return new TaskClass(r.cpuMillisPerWorker(), r.gpuMilli(), r.gpusPerWorker(), mask);
  }
}
