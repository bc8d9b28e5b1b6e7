package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.allocation.PodGpus;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.job.JobCluster;
import io.gpupool.operator.job.JobLoop;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.SpecProblems;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.operator.workload.Workloads;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The InferenceJob kind in the shared {@link JobLoop}. Each step observes the replica groups
 * ({@link ReplicaObserver}), replaces lost ones, reads the load ({@link ReplicaScaler}), decides
 * what to remove, drain and add ({@link ReplicaDecision}), places new groups ({@link
 * ReplicaPlacer}) and reports them ({@link ReplicaReport}). Pods and Services are read from the
 * controller's informers and written through {@link Workloads}.
 */
final class InferenceLoop extends JobLoop<InferenceJob, InferenceJobStatus, InferenceJobPhase> {
  private static final Duration NOT_READY_RECHECK = Duration.ofSeconds(5);

  /** What the loop remembers of a job between reconciles. */
  private static final class Memory {
    final ReplicaScaler.Memory scaler = new ReplicaScaler.Memory();
    boolean replacing;
  }

  /** Where the loop reads the job's pods and Services (the controller's informers). */
  record Reads(
      Function<InferenceJob, List<Pod>> pods,
      Function<InferenceJob, Collection<Service>> services) {}

  private final InferencePlanner planner;
  private final NodeInventory inventory;
  private final BillingService billing;
  private final Workloads workloads;
  private final EventRecorder events;
  private final JobMetrics metrics;
  private final InferenceMetrics scaleMetrics;
  private final InferenceBudget budget;
  private final ReplicaPlacer placer;
  private final ReplicasInFlight inFlight;
  private final ReplicaScaler scaler;
  private final Reads reads;
  private final Duration lostGrace;
  private final Duration drainPeriod;
  private final WeightsCacheBook weightsCache;
  private final CrossChecker crossChecker;
  private final QueuedReplicas queue;
  private final Map<String, Memory> memory = new ConcurrentHashMap<>();

  /**
   * What the loop observes: the serving pool (nodes, weights caches, grace and drain periods), the
   * replicas' load (autoscaling) and the job's pods and Services.
   */
  record Observes(ServingPool pool, Autoscaling autoscaling, Reads reads) {}

  /** What decides for a job: the planner, billing's funding gate, its queue's replica admission. */
  record Deciders(InferencePlanner planner, BillingService billing, QueuedReplicas queue) {}

  /**
   * What acts: pod and Service writes, the binding that creates replica groups off the reconcile
   * thread (their billing terms recorded first), and the canary cross-checks of the trust layer.
   */
  record Actors(Workloads workloads, JobBinding<InferenceJob> binding, CrossChecker crossChecker) {}

  /**
   * Grouped as the controller reads them, observe → decide → act, as {@code TrainingLoop}'s: the
   * cluster (events, job metrics), what is observed, what decides, what acts.
   */
  InferenceLoop(
      JobCluster cluster, Observes observes, Deciders deciders, Actors actors, Clock clock) {
    super(
        InferenceJobStatus.class,
        InferenceJobStatus::new,
        new Phases<>(
            InferenceJobPhase.Pending,
            InferenceJobPhase.Suspended,
            p -> false,
            p -> p == InferenceJobPhase.Degraded,
            InferenceJobReconciler.SERVING),
        new Metering(deciders.billing()::usage, deciders.billing()::meteringInterval),
        cluster.events(),
        cluster.metrics(),
        clock);
    ServingPool pool = observes.pool();
    Autoscaling autoscaling = observes.autoscaling();
    InferencePlanner planner = deciders.planner();
    BillingService billing = deciders.billing();
    Workloads workloads = actors.workloads();
    EventRecorder events = cluster.events();
    JobMetrics metrics = cluster.metrics();
    this.planner = planner;
    this.inventory = pool.inventory();
    this.billing = billing;
    this.workloads = workloads;
    this.events = events;
    this.metrics = metrics;
    this.scaleMetrics = autoscaling.metrics();
    this.budget = new InferenceBudget(billing, events);
    this.inFlight = new ReplicasInFlight(actors.binding().binder(), events);
    this.placer =
        new ReplicaPlacer(planner, budget, actors.binding(), events, metrics, pool.cacheSettings());
    this.scaler =
        new ReplicaScaler(
            autoscaling.load(), autoscaling.metrics(), events, autoscaling.pollInterval());
    this.reads = observes.reads();
    this.lostGrace = pool.lostGrace();
    this.drainPeriod = pool.drainPeriod();
    this.weightsCache = pool.weightsCache();
    this.crossChecker = actors.crossChecker();
    this.queue = deciders.queue();
  }

  @Override
  protected String kind() {
    return InferenceGroup.KIND;
  }

  @Override
  protected SpecProblems validate(InferenceJob job) {
    return InferenceJobValidator.validate(job);
  }

  @Override
  protected boolean holdsNothing(InferenceJobStatus status) {
    return status.phase == InferenceJobPhase.Suspended
        || (status.phase == InferenceJobPhase.Pending
            && (status.replicas == null || status.replicas.isEmpty()));
  }

  @Override
  protected void release(InferenceJob job) {
    planner.release(job);
    queue.released(job);
  }

  @Override
  protected void stopWorkload(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
    deletePods(s.job, reads.pods().apply(s.job));
    s.status.replicas = new ArrayList<>();
    s.status.readyReplicas = 0;
    s.status.totalGpus = 0;
  }

  @Override
  protected Optional<Wait> notNow(InferenceJob job) {
    // Replica groups are being created right now; the binder wakes the job when that has ended.
    return inFlight.creating(job) ? Optional.of(new Wait(null)) : Optional.empty();
  }

  @Override
  protected boolean usageMoves(InferenceJobStatus status, boolean usageChanged) {
    return status.replicas != null && !status.replicas.isEmpty();
  }

  @Override
  protected void afterStep(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
    if (s.status.desiredReplicas != null) {
      scaleMetrics.replicas(
          s.job.getMetadata().getNamespace(),
          s.job.getMetadata().getName(),
          s.status.desiredReplicas,
          s.status.readyReplicas == null ? 0 : s.status.readyReplicas);
    }
  }

  @Override
  protected void forget(InferenceJob job) {
    scaleMetrics.forget(job.getMetadata().getNamespace(), job.getMetadata().getName());
    memory.remove(job.getMetadata().getUid());
    queue.forget(job);
  }

  @Override
  protected void drive(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
    InferenceJob job = s.job;
    InferenceJobStatus status = s.status;
    InferenceJobSpec spec = job.getSpec();
    Memory mem = memory.computeIfAbsent(job.getMetadata().getUid(), k -> new Memory());
    if (!planner.ready()) {
      s.condition(JobConditions.SCHEDULED, false, "Queued", "waiting for the pool to be read");
      s.recheckIn(Duration.ofSeconds(1));
      return;
    }
    List<ReplicaGroup> groups = ReplicaGroup.of(reads.pods().apply(job));
    if (!groups.isEmpty()) {
      Optional<InferenceBudget.Stop> stop = budget.mustStop(s);
      if (stop.isPresent()) {
        budget.stop(s, stop.get(), () -> stopWorkload(s));
        s.recheckIn(InferenceBudget.FUNDS_RECHECK);
        return;
      }
    }
    ReplicaObserver.Observation seen =
        ReplicaObserver.observe(groups, inventory::node, lostGrace, drainPeriod, s.now);
    s.recheckIn(seen.recheck());
    boolean removed = replaceLost(s, mem, seen) | inFlight.notCreated(s);
    for (ReplicaGroup g : seen.drained()) {
      deleteGroup(s.job, g);
      removed = true;
      events.record(
          job, EventRecorder.NORMAL, "Drained", "replica " + g.replica() + " removed after drain");
    }
    List<ReplicaGroup> active = new ArrayList<>(seen.active());
    List<ReplicaGroup> draining = new ArrayList<>(seen.draining());

    int floor = Math.max(1, spec.replicas.min == null ? 1 : spec.replicas.min);
    int max = Math.max(floor, spec.replicas.max);
    int desired =
        Autoscaler.clamp(
            status.desiredReplicas == null ? floor : status.desiredReplicas, floor, max);
    desired = scaler.desired(s, mem.scaler, active, floor, max, desired);
    status.desiredReplicas = desired;
    // After the load was read: canaries are answered before this returns, so no scrape sees them.
    for (ReplicaGroup g : crossChecker.check(s, active)) {
      deleteGroup(s.job, g);
      active.remove(g);
      removed = true;
      mem.replacing = true;
    }

    // Its GpuQueue says how many of them may run: the minimum first, each replica above it once
    // admitted; the others wait in the queue while the job serves at the size it has.
    QueuedReplicas.Outcome admitted =
        queue.allowed(s, desired, active.size() + draining.size(), active.size());
    if (admitted instanceof QueuedReplicas.Evict evict) {
      stopWorkload(s);
      queue.evicted(s, evict);
      return;
    }
    QueuedReplicas.Run run = (QueuedReplicas.Run) admitted;
    int allowed = Math.min(desired, run.count());
    ReplicaDecision decision =
        ReplicaDecision.decide(active, allowed, InferenceGroup.specHash(spec));
    rollingUpdateCondition(s, decision, allowed);
    for (ReplicaGroup g : decision.delete()) {
      deleteGroup(s.job, g);
      active.remove(g);
      removed = true;
    }
    for (ReplicaGroup g : decision.drain()) {
      drain(s, g);
      active.remove(g);
      draining.add(g);
    }
    List<Pod> remaining = new ArrayList<>();
    active.forEach(g -> remaining.addAll(g.pods()));
    draining.forEach(g -> remaining.addAll(g.pods()));
    Map<String, Integer> held = slots(remaining);
    if (removed) {
      planner.hold(job, held);
    }
    Optional<Duration> holdOff = inFlight.holdOff(s);
    if (decision.add() > 0 && holdOff.isPresent()) {
      s.recheckIn(holdOff.get()); // a group failed to be created: not again before its backoff
    } else if (decision.add() > 0) {
      // A queued job updates in place: a surge replica would run it over its admitted quota.
      boolean surgeRefused = decision.surge() && run.queued();
      int gpuLimit = run.queued() ? QueuedReplicas.gpusPerReplica(spec) : 0;
      boolean placed =
          !surgeRefused && placer.place(s, active, draining, held, decision.add(), gpuLimit);
      if (!placed && !decision.surge() && run.queued()) {
        queue.unplaced(s, active.size());
      }
      if (!placed && decision.surge()) {
        // No room for an extra replica: update in place, one replica at a time, as long as the
        // others keep the minimum ready.
        ReplicaDecision.inPlace(decision.stale(), active, floor)
            .ifPresent(
                victim -> {
                  if (victim.drain()) {
                    drain(s, victim.group());
                  } else {
                    deleteGroup(s.job, victim.group());
                    List<Pod> left = new ArrayList<>(remaining);
                    left.removeAll(victim.group().pods());
                    planner.hold(job, slots(left));
                  }
                });
      }
    }
    if (decision.add() == 0 && !active.isEmpty()) {
      Conditions.find(status.conditions, JobConditions.SCHEDULED)
          .filter(c -> "False".equals(c.getStatus()))
          .ifPresent(
              c ->
                  s.condition(
                      JobConditions.SCHEDULED,
                      true,
                      "Placed",
                      active.size() + " replica(s) placed"));
    }
    if (!active.isEmpty() || !draining.isEmpty()) {
      // The Service behind it is the controller's dependent resource (FrontService).
      status.endpoint = InferenceGroup.endpoint(job);
    }
    report(s, mem, floor, groups.stream().map(ReplicaGroup::group).collect(Collectors.toSet()));
    if (status.readyReplicas < status.desiredReplicas && !active.isEmpty()) {
      s.recheckIn(NOT_READY_RECHECK);
    }
  }

  /** Failed shards and lost nodes: the whole group goes, and is placed again. */
  private boolean replaceLost(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      Memory mem,
      ReplicaObserver.Observation seen) {
    for (ReplicaObserver.Loss loss : seen.lost()) {
      ReplicaGroup g = loss.group();
      deleteGroup(s.job, g);
      mem.replacing = !g.draining() || mem.replacing;
      if (loss.nodeLost()) {
        events.record(
            s.job,
            EventRecorder.WARNING,
            "NodeLost",
            "replica " + g.replica() + ": " + loss.why() + "; recreating the group elsewhere");
        metrics.recovery(InferenceGroup.KIND);
      } else if (!g.draining()) {
        events.record(
            s.job,
            EventRecorder.WARNING,
            "ReplicaFailed",
            "replica " + g.replica() + ": " + loss.why() + "; recreating the whole group");
        metrics.restart(InferenceGroup.KIND, "ReplicaFailed");
      }
    }
    return !seen.lost().isEmpty();
  }

  private void rollingUpdateCondition(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      ReplicaDecision decision,
      int desired) {
    int stale = decision.stale().size();
    if (stale == 0) {
      s.remove(InferenceJobReconciler.ROLLING_UPDATE);
      return;
    }
    if (s.condition(
        InferenceJobReconciler.ROLLING_UPDATE,
        true,
        "Updating",
        stale + " replica(s) run an older spec; replacing one at a time")) {
      events.record(
          s.job,
          EventRecorder.NORMAL,
          "RollingUpdate",
          stale + " replica(s) to update, one at a time, keeping " + desired + " ready");
    }
  }

  /** Builds status from the pods as they are now, and the phase from the ready count. */
  private void report(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      Memory mem,
      int floor,
      Set<String> groupsAtStart) {
    InferenceJobStatus status = s.status;
    List<Pod> pods = reads.pods().apply(s.job);
    List<ReplicaGroup> groups =
        ReplicaReport.listed(ReplicaGroup.of(pods), groupsAtStart, inFlight.creating(s.job));
    var before = status.replicas;
    int ready =
        ReplicaReport.fill(
            status,
            groups,
            new ReplicaReport.Placements(
                pod -> billing.placedTerms(pod, s.job),
                node -> inventory.node(node).map(GpuNode::product)));
    weightsCache.learn(pods);
    CacheReport.Counted cache = CacheReport.count(status, before, s.job.getSpec().weights != null);
    scaleMetrics.cache(
        s.job.getMetadata().getNamespace(),
        s.job.getMetadata().getName(),
        cache.hits(),
        cache.misses());
    if (!inFlight.creating(s.job)) {
      // While groups are being created their Services exist before their pods: not unused.
      removeUnusedGroupServices(s.job, groups);
    }
    if (ready >= status.desiredReplicas) {
      mem.replacing = false;
    }
    String serving = InferenceJobReconciler.SERVING;
    if (status.replicas.isEmpty() && inFlight.creating(s.job)) {
      // Placed and being created: its GPUs stay reserved (a Pending job without replicas holds
      // none).
      status.phase = InferenceJobPhase.Deploying;
      s.condition(serving, false, "Creating", "replica groups placed, their pods being created");
    } else if (status.replicas.isEmpty()) {
      status.phase = InferenceJobPhase.Pending;
      s.condition(serving, false, "NoReplicas", "no replica placed");
    } else if (ready >= floor) {
      status.phase =
          ready < status.desiredReplicas && mem.replacing
              ? InferenceJobPhase.Degraded
              : InferenceJobPhase.Serving;
      s.condition(
          serving, true, "MinimumReady", ready + " of " + status.desiredReplicas + " ready");
    } else {
      status.phase =
          s.previousPhase == InferenceJobPhase.Serving
                  || s.previousPhase == InferenceJobPhase.Degraded
              ? InferenceJobPhase.Degraded
              : InferenceJobPhase.Deploying;
      s.condition(
          serving,
          false,
          "BelowMinimum",
          ready + " of " + status.desiredReplicas + " ready, minimum " + floor);
    }
  }

  private void drain(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s, ReplicaGroup g) {
    for (Pod p : g.pods()) {
      workloads.drain(
          p, InferenceGroup.DRAINING_LABEL, InferenceGroup.DRAINING_SINCE_ANNOTATION, s.now);
    }
    s.recheckIn(drainPeriod);
    events.record(
        s.job,
        EventRecorder.NORMAL,
        "Draining",
        "replica "
            + g.replica()
            + " left the Service; removed after "
            + drainPeriod.toSeconds()
            + "s");
  }

  /**
   * Deletes a group's pods. The headless Service of its replica index is shared with a later
   * incarnation; it is kept for the next group of this index and goes with the job.
   */
  private void deleteGroup(InferenceJob job, ReplicaGroup g) {
    deletePods(job, g.pods());
  }

  /**
   * Deletes pods of the job, metered and their usage stored first: the job's status lists a group
   * only once a step has seen it, and a leader that dies after creating a group leaves it unlisted;
   * the step deleting it may be the first to see it (suspended meanwhile), and the meter takes in
   * no unlisted pod on its own.
   */
  private void deletePods(InferenceJob job, List<Pod> pods) {
    billing.beforeDeleting(job, pods);
    pods.forEach(workloads::deletePod);
  }

  /** Headless Services of replica indices no group uses any more (after a scale-down). */
  private void removeUnusedGroupServices(InferenceJob job, List<ReplicaGroup> groups) {
    Set<String> used =
        groups.stream().map(g -> Integer.toString(g.replica())).collect(Collectors.toSet());
    reads.services().apply(job).stream()
        .filter(svc -> svc.getMetadata().getLabels().containsKey(InferenceGroup.REPLICA_LABEL))
        .filter(
            svc -> !used.contains(svc.getMetadata().getLabels().get(InferenceGroup.REPLICA_LABEL)))
        .forEach(workloads::deleteService);
  }

  private static Map<String, Integer> slots(List<Pod> pods) {
    Map<String, Integer> out = new HashMap<>();
    for (Pod p : pods) {
      if (!PodGpus.terminal(p) && p.getSpec().getNodeName() != null) {
        out.merge(p.getSpec().getNodeName(), PodGpus.slots(p), Integer::sum);
      }
    }
    return out;
  }
}
