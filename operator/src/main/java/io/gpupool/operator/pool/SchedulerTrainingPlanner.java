package io.gpupool.operator.pool;

import io.gpupool.api.v1alpha1.PlanSummary;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.training.RankAssignment;
import io.gpupool.operator.training.TrainingPlanner;
import io.gpupool.operator.trust.ChallengeRunner;
import io.gpupool.scheduler.hold.GangHold;
import io.gpupool.scheduler.hold.Reservation;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.RankPlacement;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * {@link TrainingPlanner} on top of gpu-scheduler: builds the scheduler's view of the live pool
 * (nodes, prices, reliability, GPU slots held), plans, and reserves the result in the ledger, all
 * under the ledger's lock so concurrent reconciles never hand out the same GPU.
 */
@ApplicationScoped
public class SchedulerTrainingPlanner extends LedgerPlanner<TrainingJob>
    implements TrainingPlanner {
  private static final String KIND = "TrainingJob";

  /** A job waiting out a challenge on its preferred node looks again this often. */
  private static final Duration CHALLENGE_LOOK_AGAIN = Duration.ofSeconds(2);

  public SchedulerTrainingPlanner(PlanningContext pool) {
    super(KIND, pool);
  }

  @Override
  public Placement place(TrainingJob job) {
    String holder = holder(job);
    return pool.decide(
        KIND,
        true,
        () -> {
          PoolView view = pool.view(false, job.getSpec().template);
          PoolSnapshot snapshot = pool.snapshot(view, Map.of(holder, Map.of()));
          JobRequest request = JobRequests.training(holder, job);
          Map<String, Map<String, Integer>> challenges =
              pool.holdingsStartingWith(ChallengeRunner.HOLDER_PREFIX);
          Set<String> challenged =
              PreferredNodesUnderChallenge.awaited(
                  pool.scheduler(),
                  request,
                  snapshot,
                  challenges,
                  ended -> pool.snapshot(view, leftOut(holder, ended)));
          if (!challenged.isEmpty()) {
            // The node goes to this job when its challenge ends, not to whichever job asks first.
            PreferredNodesUnderChallenge.holding(challenges, challenged)
                .forEach(challenge -> pool.passOnRelease(challenge, holder));
            return new Unplaceable(
                PreferredNodesUnderChallenge.describe(challenged), CHALLENGE_LOOK_AGAIN);
          }
          if (queued(job)) {
            // Its GpuQueue orders it; the reservation is for jobs no queue orders.
            pool.reservations().placed(holder, null);
            return reserve(holder, view, pool.scheduler().plan(request, snapshot));
          }
          return placeOutsideQueues(job, holder, request, view, snapshot);
        },
        p -> p instanceof Placed);
  }

  /**
   * Places a job no GpuQueue orders on the pool minus what is held for the head gang, if there is
   * one and this is not it; a gang that cannot be placed waits for its turn to be the head.
   */
  private Placement placeOutsideQueues(
      TrainingJob job, String holder, JobRequest request, PoolView view, PoolSnapshot snapshot) {
    HeadReservations reservations = pool.reservations();
    GangHold.HeldView seen = reservations.view(holder, runtime(job), snapshot);
    PlanResult result = pool.scheduler().plan(request, seen.snapshot());
    if (result instanceof Plan) {
      reservations.placed(holder, deadline(job, Instant.now()));
      return reserve(holder, view, result);
    }
    if (seen.holdsBack() && pool.scheduler().plan(request, snapshot) instanceof Plan) {
      return new Unplaceable(HeadReservations.heldBack(seen.behind()));
    }
    String reason = PlanningContext.reason((io.gpupool.scheduler.plan.Unplaceable) result, view);
    Instant since = waitingSince(job);
    Reservation held = reservations.unplaced(request, since, snapshot);
    if (held != null) {
      return new Unplaceable(reason + "; " + held.describe());
    }
    Duration untilTurn = Duration.between(Instant.now(), since.plus(reservations.holdAfter()));
    boolean gang = request.workers() * request.gpusPerWorker() > 1;
    return new Unplaceable(reason, gang && !untilTurn.isNegative() ? untilTurn : null);
  }

  /** {@code holder} and {@code others}, each holding nothing. */
  private static Map<String, Map<String, Integer>> leftOut(String holder, Set<String> others) {
    Map<String, Map<String, Integer>> out = new HashMap<>();
    others.forEach(h -> out.put(h, Map.of()));
    out.put(holder, Map.of());
    return out;
  }

  /** Whether a GpuQueue admitted the job (status.queue is set then, before placement). */
  private static boolean queued(TrainingJob job) {
    return job.getStatus() != null && job.getStatus().queue != null;
  }

  /** How long the job runs at most, when its spec bounds it. */
  private static OptionalLong runtime(TrainingJob job) {
    Long seconds = job.getSpec().activeDeadlineSeconds;
    return seconds == null ? OptionalLong.empty() : OptionalLong.of(seconds * 1000);
  }

  /** When the job must have ended if it started at {@code start}; null when unbounded. */
  private static Instant deadline(TrainingJob job, Instant start) {
    Long seconds = job.getSpec().activeDeadlineSeconds;
    return seconds == null ? null : start.plusSeconds(seconds);
  }

  /**
   * Since when the job waits: since its Scheduled condition turned False (kept across operator
   * restarts in status), else now.
   */
  private static Instant waitingSince(TrainingJob job) {
    if (job.getStatus() == null || job.getStatus().conditions == null) {
      return Instant.now();
    }
    return Conditions.find(job.getStatus().conditions, JobConditions.SCHEDULED)
        .filter(c -> "False".equals(c.getStatus()) && c.getLastTransitionTime() != null)
        .map(c -> Instant.parse(c.getLastTransitionTime()))
        .orElseGet(Instant::now);
  }

  @Override
  public Placement repair(TrainingJob job, List<RankAssignment> current, Set<String> lostNodes) {
    String holder = holder(job);
    return pool.decide(
        KIND,
        false,
        () -> {
          PoolView view = pool.view(false, job.getSpec().template);
          // The job's own holding stays in the snapshot: repair keeps the survivors' GPUs.
          PoolSnapshot snapshot = pool.snapshot(view, Map.of());
          Set<String> lost = new HashSet<>(lostNodes);
          current.stream()
              .filter(r -> view.gpuNode(r.node()) == null)
              .forEach(r -> lost.add(r.node()));
          JobRequest request = JobRequests.training(holder, job);
          Plan previous = rebuild(holder, request, current, snapshot);
          return reserve(holder, view, pool.scheduler().repair(previous, lost, snapshot));
        },
        p -> p instanceof Placed);
  }

  @Override
  public boolean holds(TrainingJob job) {
    return pool.holds(holder(job));
  }

  @Override
  public void release(TrainingJob job) {
    TrainingJobStatus status = job.getStatus();
    if (status == null || status.phase == null || status.phase == TrainingJobPhase.Pending) {
      pool.release(holder(job)); // it may still be waiting for GPUs
    } else {
      pool.left(holder(job));
    }
  }

  @Override
  public void forget(TrainingJob job) {
    pool.left(holder(job));
  }

  @Override
  public boolean cover(TrainingJob job, List<RankAssignment> ranks) {
    Map<String, Integer> slots = new HashMap<>();
    for (RankAssignment r : ranks) {
      // Whole GPUs, as reserve() counts them: every share of a time-sliced GPU.
      int replicas = pool.inventory().node(r.node()).map(GpuNode::replicasPerGpu).orElse(1);
      slots.merge(r.node(), r.gpus() * Math.max(1, replicas), Integer::sum);
    }
    String holder = holder(job);
    TrainingJobStatus status = job.getStatus();
    Instant started =
        status == null || status.startTime == null ? null : Instant.parse(status.startTime);
    // Read back after a restart: a running gang's deadline is its head reservation's shadow time.
    Instant end = started == null ? null : deadline(job, started);
    return pool.decide(
        KIND,
        false,
        () -> {
          pool.reservations().placed(holder, end);
          return pool.cover(holder, slots);
        },
        grew -> false);
  }

  private Placement reserve(String holder, PoolView view, PlanResult result) {
    if (result instanceof io.gpupool.scheduler.plan.Unplaceable u) {
      return new Unplaceable(PlanningContext.reason(u, view));
    }
    Plan plan = (Plan) result;
    Map<String, Integer> slots = new HashMap<>();
    for (RankPlacement r : plan.ranks()) {
      slots.merge(
          r.node(), view.slots(r.node(), r.gpuIndices().length, r.milliPerGpu()), Integer::sum);
    }
    pool.hold(holder, slots);
    return new Placed(ranks(plan, view), summary(plan));
  }

  private static List<RankAssignment> ranks(Plan plan, PoolView view) {
    boolean pipeline = plan.strategy() == Strategy.PIPELINE_PARALLEL;
    List<RankAssignment> out = new ArrayList<>();
    // Ranks are renumbered 0..n-1 in stage order: a repaired plan may number replacements
    // past the old ones, and torchrun needs dense ranks.
    List<RankPlacement> ordered = new ArrayList<>(plan.ranks());
    ordered.sort(
        Comparator.comparingInt(RankPlacement::stage).thenComparingInt(RankPlacement::rank));
    int next = 0;
    for (RankPlacement r : ordered) {
      GpuNode node = view.gpuNode(r.node());
      out.add(
          new RankAssignment(
              next++,
              r.node(),
              r.provider(),
              r.region(),
              r.gpuProduct(),
              r.gpuIndices().length,
              node == null ? "nvidia.com/gpu" : node.sharedResourceName(),
              pipeline ? r.stage() : -1,
              pipeline ? r.firstLayer() : -1,
              pipeline ? r.lastLayer() : -1,
              r.batchShare()));
    }
    return out;
  }

  static PlanSummary summary(Plan plan) {
    PlanSummary s = new PlanSummary();
    s.strategy = JobRequests.apiName(plan.strategy());
    s.stages = plan.stages();
    s.totalGpus = plan.ranks().stream().mapToInt(r -> r.gpuIndices().length).sum();
    s.estimatedStepSeconds = String.format(Locale.ROOT, "%.3f", plan.stepSeconds());
    s.estimatedThroughput = String.format(Locale.ROOT, "%.2f", plan.samplesPerSecond());
    s.pricePerHour = String.format(Locale.ROOT, "%.2f", plan.pricePerHour());
    s.reason = String.join(" ", plan.why());
    s.rejected = plan.rejected().isEmpty() ? null : plan.rejected();
    return s;
  }

  /**
   * The plan a gang runs under, rebuilt from its status (it survives operator restarts that way).
   * Each rank takes GPU indices from the job's own allocations in {@code snapshot}; ranks on nodes
   * no longer in the pool get placeholder indices, since repair drops them anyway.
   */
  private static Plan rebuild(
      String holder, JobRequest request, List<RankAssignment> current, PoolSnapshot snapshot) {
    boolean pipeline = current.stream().anyMatch(r -> r.stage() >= 0);
    Map<String, Deque<Integer>> heldIndices = new HashMap<>();
    snapshot.allocations().stream()
        .filter(a -> a.jobId().equals(holder))
        .forEach(
            a -> {
              for (int gpu : a.gpuIndices()) {
                heldIndices.computeIfAbsent(a.node(), n -> new ArrayDeque<>()).add(gpu);
              }
            });
    List<RankPlacement> ranks = new ArrayList<>();
    int layers = request.model().layers();
    for (RankAssignment r : current) {
      Deque<Integer> held = heldIndices.getOrDefault(r.node(), new ArrayDeque<>());
      int[] indices = new int[r.gpus()];
      for (int i = 0; i < indices.length; i++) {
        indices[i] = held.isEmpty() ? i : held.poll();
      }
      ranks.add(
          new RankPlacement(
              r.rank(),
              0,
              r.node(),
              r.provider(),
              r.region(),
              "",
              r.gpuProduct(),
              indices,
              1000,
              pipeline ? r.stage() : 0,
              pipeline ? r.firstLayer() : 0,
              pipeline ? r.lastLayer() : layers - 1,
              r.batchShare()));
    }
    return new Plan(
        holder,
        pipeline ? Strategy.PIPELINE_PARALLEL : Strategy.DATA_PARALLEL,
        ranks,
        0,
        0,
        0,
        Map.of(),
        List.of(),
        List.of(),
        request);
  }
}
