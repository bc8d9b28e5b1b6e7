package io.gpupool.operator.pool;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.Sharding;
import io.gpupool.operator.inference.InferencePlanner;
import io.gpupool.operator.inference.ModelCache;
import io.gpupool.operator.inference.ShardAssignment;
import io.gpupool.operator.inference.WeightsCacheBook;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.podtemplate.PodTemplateNodes;
import io.gpupool.scheduler.hold.GangHold;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.ModelWeights;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.RankPlacement;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * {@link InferencePlanner} on top of gpu-scheduler. Each call decides and reserves under the
 * ledger's lock. Replicas are tried, in order: as GPU shares on time-sliced/MPS nodes (smallest
 * share that holds the model first), then as whole GPUs, which the scheduler turns into sharded
 * replica groups (tensor parallel in a node, pipeline across nodes) when one GPU is too small. New
 * replicas first avoid providers the job already runs on, and fall back to the whole pool.
 */
@ApplicationScoped
public class SchedulerInferencePlanner extends LedgerPlanner<InferenceJob>
    implements InferencePlanner {
  private static final String KIND = "InferenceJob";

  private final WeightsCacheBook weightsCache;
  private final double headroom;

  @Inject
  public SchedulerInferencePlanner(PlanningContext pool, WeightsCacheBook weightsCache) {
    super(KIND, pool);
    this.weightsCache = weightsCache;
    this.headroom = pool.scheduler().config().memoryHeadroom();
  }

  /** A planner that knows of no cached weights. */
  public SchedulerInferencePlanner(PlanningContext pool) {
    this(pool, new WeightsCacheBook());
  }

  @Override
  public Placement add(
      InferenceJob job,
      Map<String, Integer> held,
      Set<String> usedProviders,
      List<Integer> replicas) {
    String holder = holder(job);
    return pool.decide(
        KIND,
        true,
        () -> {
          InferenceJobSpec spec = job.getSpec();
          PoolView view = pool.view(!Boolean.FALSE.equals(spec.allowGpuSharing), spec.template);
          PoolSnapshot full = pool.snapshot(view, Map.of(holder, held));
          if (spec.weights != null && spec.weights.cached()) {
            full =
                full.withCachedWeights(
                    weightsCache.cached(
                        full.nodes().stream().map(n -> n.name()).collect(Collectors.toSet())));
          }
          Set<String> avoid =
              pool.inventory().nodes().stream()
                  .filter(n -> usedProviders.contains(n.provider()))
                  .map(GpuNode::name)
                  .collect(Collectors.toSet());
          // A job no GpuQueue orders leaves alone what is held for the head gang, if any.
          GangHold.HeldView seen =
              queued(job)
                  ? new GangHold.HeldView(full, null)
                  : pool.reservations().view(holder, OptionalLong.empty(), full);
          PoolSnapshot usable = seen.snapshot();
          PlanResult result = null;
          if (!avoid.isEmpty()) {
            result = plan(holder, spec, replicas.size(), view, usable.withoutNodes(avoid));
          }
          if (!(result instanceof Plan)) {
            result = plan(holder, spec, replicas.size(), view, usable);
          }
          if (result instanceof io.gpupool.scheduler.plan.Unplaceable u) {
            if (seen.holdsBack()
                && plan(holder, spec, replicas.size(), view, full) instanceof Plan) {
              return new Unplaceable(HeadReservations.heldBack(seen.behind()));
            }
            return new Unplaceable(PlanningContext.reason(u, view));
          }
          Plan plan = (Plan) result;
          if (spec.sharding == Sharding.None && sharded(plan)) {
            return new Unplaceable(
                "each replica needs more than one GPU and spec.sharding is None: "
                    + String.join(" ", plan.why()));
          }
          Map<Integer, List<ShardAssignment>> groups = groups(plan, view, replicas);
          Map<String, Integer> slots = new HashMap<>(held);
          groups.values().stream()
              .flatMap(List::stream)
              .forEach(s -> slots.merge(s.node(), s.slots(), Integer::sum));
          pool.hold(holder, slots);
          return new Placed(groups, String.join(" ", plan.why()));
        },
        p -> p instanceof Placed);
  }

  /** Whether a GpuQueue admits the job's replicas (status.queue is set then, before placement). */
  private static boolean queued(InferenceJob job) {
    return job.getStatus() != null && job.getStatus().queue != null;
  }

  @Override
  public void hold(InferenceJob job, Map<String, Integer> held) {
    pool.hold(holder(job), held);
  }

  /** Shares first (smallest that holds the model), then whole GPUs and sharded groups. */
  private PlanResult plan(
      String holder, InferenceJobSpec spec, int count, PoolView view, PoolSnapshot snapshot) {
    ModelSpec model = JobRequests.model(spec.model);
    if (!Boolean.FALSE.equals(spec.allowGpuSharing)) {
      for (int milli : shareCandidates(model, snapshot, view)) {
        PlanResult r = pool.scheduler().plan(request(holder, spec, count, milli), snapshot);
        if (r instanceof Plan) {
          return r;
        }
      }
    }
    // Whole GPUs; the scheduler shards the replica into a group when one GPU is too small.
    return pool.scheduler().plan(request(holder, spec, count, 1000), snapshot);
  }

  /**
   * The GPU shares (in milli, whole device-plugin slots) that hold one replica on some shared node,
   * smallest first. A share is k slots of {@code 1000 / replicasPerGpu} milli.
   */
  private List<Integer> shareCandidates(ModelSpec model, PoolSnapshot snapshot, PoolView view) {
    double need = replicaBytes(model);
    TreeSet<Integer> out = new TreeSet<>();
    for (var n : snapshot.nodes()) {
      GpuNode g = view.gpuNode(n.name());
      if (g == null || !g.shared()) {
        continue;
      }
      int r = g.replicasPerGpu();
      double perSlot = g.memoryMiB() * 1024.0 * 1024 * headroom / r;
      int k = (int) Math.ceil(need / perSlot);
      if (k < r) {
        out.add(k * (1000 / r));
      }
    }
    return new ArrayList<>(out);
  }

  /** Weights plus the activations of one sample in flight, as the scheduler estimates them. */
  public static double replicaBytes(ModelSpec m) {
    return m.stateBytes(JobKind.INFERENCE)
        + m.layerActivationBytesPerSample(JobKind.INFERENCE) * m.layers();
  }

  static JobRequest request(String holder, InferenceJobSpec spec, int count, int milli) {
    JobRequest.Builder b =
        JobRequest.builder(holder, JobRequests.model(spec.model))
            .kind(JobKind.INFERENCE)
            .strategy(Strategy.DATA_PARALLEL)
            .workers(count, 1)
            .gpuMilli(milli);
    if (spec.weights != null && spec.weights.cached()) {
      b.weights(
          new ModelWeights(ModelCache.digest(spec.weights.uri), ModelCache.bytes(spec.weights)));
    }
    JobRequests.resources(b, spec.resources);
    b.preferredNodes(PodTemplateNodes.preferred(spec.template));
    JobRequests.placement(b, spec.placement);
    return b.build();
  }

  /** Replica-group plans (the only pipeline plans for a data-parallel request) are sharded. */
  private static boolean sharded(Plan plan) {
    return plan.strategy() == Strategy.PIPELINE_PARALLEL
        || plan.ranks().stream().anyMatch(r -> r.gpuIndices().length > 1);
  }

  /**
   * The plan's ranks as replica groups, renumbered onto {@code replicas}. A replica-group plan
   * carries each rank's replica; a single-worker plan has one rank per replica.
   */
  static Map<Integer, List<ShardAssignment>> groups(
      Plan plan, PoolView view, List<Integer> replicas) {
    boolean grouped = plan.strategy() == Strategy.PIPELINE_PARALLEL;
    Map<Integer, List<RankPlacement>> byReplica = new LinkedHashMap<>();
    List<RankPlacement> ordered = new ArrayList<>(plan.ranks());
    ordered.sort(Comparator.comparingInt(RankPlacement::rank));
    int next = 0;
    for (RankPlacement r : ordered) {
      int key = grouped ? r.replica() : next++;
      byReplica.computeIfAbsent(key, k -> new ArrayList<>()).add(r);
    }
    Map<Integer, List<ShardAssignment>> out = new LinkedHashMap<>();
    int i = 0;
    for (List<RankPlacement> group : byReplica.values()) {
      int replica = replicas.get(i++);
      group.sort(Comparator.comparingInt(RankPlacement::stage));
      List<ShardAssignment> shards = new ArrayList<>();
      for (int s = 0; s < group.size(); s++) {
        RankPlacement r = group.get(s);
        GpuNode node = view.gpuNode(r.node());
        int gpus = r.gpuIndices().length;
        shards.add(
            new ShardAssignment(
                replica,
                s,
                group.size(),
                r.node(),
                r.provider(),
                r.region(),
                r.gpuProduct(),
                gpus,
                r.milliPerGpu(),
                view.slots(r.node(), gpus, r.milliPerGpu()),
                node == null ? "nvidia.com/gpu" : node.sharedResourceName(),
                r.firstLayer(),
                r.lastLayer()));
      }
      out.put(replica, shards);
    }
    return out;
  }
}
