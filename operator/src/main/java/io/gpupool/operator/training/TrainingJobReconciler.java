package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.status.OwnStatusWrites;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.status.StatusReplace;
import io.gpupool.operator.validation.SpecProblems;
import io.gpupool.operator.validation.TrainingJobValidator;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Drives a TrainingJob: validate, place the whole gang, follow it, restart it from its checkpoint
 * when a rank fails or a node is lost, and free its GPUs when it ends.
 *
 * <p>Pending jobs are woken by capacity events (a node joins or recovers, a job frees GPUs), never
 * by polling.
 */
@ControllerConfiguration(name = TrainingJobReconciler.NAME)
public class TrainingJobReconciler implements Reconciler<TrainingJob>, Cleaner<TrainingJob> {
  public static final String NAME = "trainingjob";
  private static final String KIND = "TrainingJob";
  private static final Duration STALE_RECHECK = Duration.ofMillis(500);
  private static final Duration USAGE_REFRESH = Duration.ofSeconds(30);
  private static final Duration FUNDS_RECHECK = Duration.ofSeconds(60);
  private static final Duration STALE_LIMIT = Duration.ofSeconds(30);
  private final Map<String, Instant> staleSince = new java.util.concurrent.ConcurrentHashMap<>();
  private final OwnStatusWrites<TrainingJob, TrainingJobStatus> ownWrites =
      new OwnStatusWrites<>(
          TrainingJobStatus.class, TrainingJob::getStatus, TrainingJob::setStatus);
  private static final Logger LOG = Logger.getLogger(TrainingJobReconciler.class);

  private final KubernetesClient client;
  private final EventRecorder events;
  private final TrainingPlanner planner;
  private final NodeInventory inventory;
  private final GpupoolConfig config;
  private final JobMetrics metrics;
  private final io.gpupool.operator.provider.ReliabilityTracker reliability;
  private final io.gpupool.operator.billing.BillingService billing;
  private final GangBinder binder;
  private final Clock clock = Clock.systemUTC();
  private final SimpleInboundEventSource<TrainingJob> wakeups =
      new SimpleInboundEventSource<>("trainingjob-capacity");

  public TrainingJobReconciler(
      KubernetesClient client,
      EventRecorder events,
      TrainingPlanner planner,
      NodeInventory inventory,
      GpupoolConfig config,
      io.gpupool.operator.allocation.AllocationLedger ledger,
      io.gpupool.operator.pool.ProviderDirectory providers,
      io.gpupool.operator.provider.ReliabilityTracker reliability,
      io.gpupool.operator.billing.BillingService billing,
      JobMetrics metrics,
      GangBinder binder) {
    this.binder = binder;
    this.reliability = reliability;
    this.billing = billing;
    this.metrics = metrics;
    this.client = client;
    this.events = events;
    this.planner = planner;
    this.inventory = inventory;
    this.config = config;
    ledger.onRelease(() -> wakePending("release", null));
    inventory.onChange(node -> wakePending("node", node));
    providers.onChange(provider -> wakePending("provider", null));
    billing.onAccountsChange(this::wakeAll);
  }

  /** Wakes every job: its namespace may have been bound to, or unbound from, its account. */
  private void wakeAll() {
    var cache = jobs;
    if (cache != null) {
      cache.list().forEach(job -> wakeups.propagateEvent(ResourceID.fromResource(job)));
    }
  }

  private volatile io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache<
          TrainingJob>
      jobs;

  @Override
  public List<EventSource<?, TrainingJob>> prepareEventSources(
      EventSourceContext<TrainingJob> context) {
    this.jobs = context.getPrimaryCache();
    var pods =
        InformerEventSourceConfiguration.from(Pod.class, TrainingJob.class)
            .withName("trainingjob-pods")
            .withLabelSelector(GpupoolApi.JOB_KIND_LABEL + "=TrainingJob")
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(TrainingJob.class))
            .build();
    return List.of(new InformerEventSource<>(pods, context), wakeups);
  }

  /** Wakes jobs waiting for capacity, and jobs with ranks on {@code nodeName} (null: none). */
  private void wakePending(String cause, String nodeName) {
    var cache = jobs;
    if (cache == null) {
      return;
    }
    cache
        .list()
        .forEach(
            job -> {
              TrainingJobStatus s = job.getStatus();
              boolean waiting = s == null || s.phase == null || s.phase == TrainingJobPhase.Pending;
              boolean onNode =
                  nodeName != null
                      && s != null
                      && s.placements != null
                      && s.placements.stream().anyMatch(p -> nodeName.equals(p.node));
              if (waiting || onNode) {
                metrics.wakeup(KIND, cause);
                wakeups.propagateEvent(ResourceID.fromResource(job));
              }
            });
  }

  @Override
  public UpdateControl<TrainingJob> reconcile(TrainingJob job, Context<TrainingJob> context) {
    Outcome outcome = metrics.reconcile(NAME, () -> reconcileJob(job, context));
    // Written here, outside the timed decision, as JOSDK's own status patch was.
    if (outcome.writeStatus()) {
      StatusReplace.write(client, TrainingJob.class, job, job.getStatus());
    }
    return outcome.control();
  }

  /** What a reconcile decided: whether status changed, and when to look again. */
  private record Outcome(UpdateControl<TrainingJob> control, boolean writeStatus) {
    static Outcome of(UpdateControl<TrainingJob> control) {
      return new Outcome(control, false);
    }
  }

  private Outcome reconcileJob(TrainingJob job, Context<TrainingJob> context) {
    ownWrites.overlay(job);
    if (staleStatus(job, context)) {
      // The informer has not caught up with our own last status write: acting on this copy
      // would re-place or re-restart a gang that exists, and writing it would undo that write.
      return Outcome.of(UpdateControl.<TrainingJob>noUpdate().rescheduleAfter(STALE_RECHECK));
    }
    if (binder.busy(job.getMetadata().getUid())) {
      // Its gang is being created right now; the binder wakes the job when that has ended.
      return Outcome.of(UpdateControl.noUpdate());
    }
    TrainingJobStatus before = StatusDiff.copy(job.getStatus(), TrainingJobStatus.class);
    TrainingJobStatus status = job.getStatus() == null ? new TrainingJobStatus() : job.getStatus();
    job.setStatus(status);
    if (status.restarts == null) {
      status.restarts = 0;
    }
    Step step = new Step(job, status, clock.instant());
    Duration recheck = drive(step, context);
    String usageBefore =
        status.usage == null ? null : status.usage.gpuSeconds + "/" + status.usage.settled;
    billing.usage(job.getMetadata().getUid()).ifPresent(usage -> status.usage = usage);
    String usageAfter =
        status.usage == null ? null : status.usage.gpuSeconds + "/" + status.usage.settled;
    boolean usageMoving = !java.util.Objects.equals(usageBefore, usageAfter);
    if (status.phase == TrainingJobPhase.Running
        || status.phase == TrainingJobPhase.Scheduled
        || (isTerminal(status.phase)
            && (usageMoving
                || (recentlyEnded(status)
                    // settlement moves money without a cluster event: keep looking until the
                    // status shows it (another reconcile in between cancels the last recheck)
                    && (status.usage == null
                        || (billing.enabled()
                            && !status.usage.cost.equals(status.usage.settled))))))) {
      // Cost grows while the gang runs; refresh what kubectl shows without waiting for an event.
      recheck = recheck == null || recheck.compareTo(USAGE_REFRESH) > 0 ? USAGE_REFRESH : recheck;
    }
    status.observedGeneration = step.generation;
    metrics.phase(
        KIND,
        job.getMetadata().getNamespace(),
        job.getMetadata().getName(),
        String.valueOf(status.phase));
    if (step.previousPhase != status.phase) {
      events.record(
          job,
          status.phase == TrainingJobPhase.Failed ? EventRecorder.WARNING : EventRecorder.NORMAL,
          String.valueOf(status.phase),
          "TrainingJob is " + status.phase);
    }
    UpdateControl<TrainingJob> control = UpdateControl.noUpdate();
    boolean changed = before == null || StatusDiff.changed(before, status);
    if (changed) {
      ownWrites.remember(job);
    }
    return new Outcome(recheck == null ? control : control.rescheduleAfter(recheck), changed);
  }

  /** One reconcile's working set. */
  private static final class Step {
    final TrainingJob job;
    final TrainingJobStatus status;
    final Instant now;
    final Long generation;
    final TrainingJobPhase previousPhase;

    Step(TrainingJob job, TrainingJobStatus status, Instant now) {
      this.job = job;
      this.status = status;
      this.now = now;
      this.generation = job.getMetadata().getGeneration();
      this.previousPhase = status.phase;
    }

    void condition(String type, boolean value, String reason, String message) {
      Conditions.set(status.conditions, type, value, reason, message, generation, now);
    }
  }

  /** Moves the job one step; returns when to look again, or null to wait for events. */
  private Duration drive(Step s, Context<TrainingJob> context) {
    TrainingJob job = s.job;
    TrainingJobStatus status = s.status;
    if (status.phase == TrainingJobPhase.Succeeded || status.phase == TrainingJobPhase.Failed) {
      planner.release(job);
      return null;
    }
    SpecProblems problems = TrainingJobValidator.validate(job);
    if (!problems.isEmpty()) {
      if (status.phase == null) {
        status.phase = TrainingJobPhase.Pending;
      }
      if (Conditions.set(
          status.conditions,
          JobConditions.SPEC_VALID,
          false,
          "InvalidSpec",
          problems.summary(),
          s.generation,
          s.now)) {
        events.record(job, EventRecorder.WARNING, "InvalidSpec", problems.summary());
        LOG.infof("%s refused: %s", ref(job), problems.summary());
      }
      return null;
    }
    s.condition(JobConditions.SPEC_VALID, true, "Valid", "spec accepted");

    Map<Integer, Pod> gang = currentGang(job, context);
    if (Boolean.TRUE.equals(job.getSpec().suspend)) {
      if (status.phase != TrainingJobPhase.Suspended) {
        removeGang(job, context);
        planner.release(job);
        status.placements = null;
        status.phase = TrainingJobPhase.Suspended;
        s.condition(
            JobConditions.SUSPENDED,
            true,
            "Suspended",
            "spec.suspend is true: pods removed, usage stopped");
        s.condition(JobConditions.RUNNING, false, "Suspended", "suspended");
        events.record(
            job, EventRecorder.NORMAL, "Suspended", "pods removed; resume re-plans the gang");
      }
      return null;
    }
    if (status.phase == TrainingJobPhase.Suspended) {
      Conditions.remove(status.conditions, JobConditions.SUSPENDED);
      status.phase = TrainingJobPhase.Pending;
      events.record(job, EventRecorder.NORMAL, "Resumed", "spec.suspend is false: re-planning");
    }
    if (status.phase == null) {
      status.phase = TrainingJobPhase.Pending;
    }

    Long deadline = job.getSpec().activeDeadlineSeconds;
    if (deadline != null
        && status.startTime != null
        && Instant.parse(status.startTime).plusSeconds(deadline).isBefore(s.now)) {
      fail(
          s,
          context,
          "DeadlineExceeded",
          "ran longer than activeDeadlineSeconds (" + deadline + "s)");
      return null;
    }

    Optional<String> gangFailed = binder.takeFailure(job.getMetadata().getUid());
    if (gangFailed.isPresent()) {
      // The binder already deleted the pods it had created and released the GPUs.
      status.placements = null;
      status.phase = TrainingJobPhase.Pending;
      s.condition(JobConditions.SCHEDULED, false, "GangCreationFailed", gangFailed.get());
      events.record(job, EventRecorder.WARNING, "GangCreationFailed", gangFailed.get());
    }
    List<RankAssignment> ranks = Placements.fromStatus(status.placements);
    if (ranks.isEmpty()) {
      Optional<Duration> holdOff = binder.holdOff(job.getMetadata().getUid(), s.now);
      if (holdOff.isPresent()) {
        return holdOff.get().plusMillis(100);
      }
      return place(s, context);
    }
    Duration recheck = follow(s, context, ranks, gang);
    if (deadline != null && status.startTime != null && !isTerminal(status.phase)) {
      Duration left =
          Duration.between(s.now, Instant.parse(status.startTime).plusSeconds(deadline));
      recheck = recheck == null || left.compareTo(recheck) < 0 ? left.plusSeconds(1) : recheck;
    }
    return recheck;
  }

  private Duration place(Step s, Context<TrainingJob> context) {
    TrainingJob job = s.job;
    if (!planner.ready()) {
      s.condition(JobConditions.SCHEDULED, false, "Queued", "waiting for the pool to be read");
      return Duration.ofSeconds(1);
    }
    removeGang(job, context); // stale pods of an earlier gang never coexist with a new one
    TrainingPlanner.Placement placement = planner.place(job);
    if (placement instanceof TrainingPlanner.Unplaceable u) {
      s.status.phase = TrainingJobPhase.Pending;
      boolean changed =
          Conditions.set(
              s.status.conditions,
              JobConditions.SCHEDULED,
              false,
              "Unschedulable",
              u.reason(),
              s.generation,
              s.now);
      if (changed) {
        events.record(job, EventRecorder.WARNING, "Unschedulable", u.reason());
      }
      return null;
    }
    TrainingPlanner.Placed placed = (TrainingPlanner.Placed) placement;
    io.gpupool.operator.billing.Admission admission =
        billing.admit(job, weiPerHour(placed.ranks()));
    if (!admission.mayRun()) {
      planner.release(job);
      s.status.phase = TrainingJobPhase.Pending;
      if (Conditions.set(
          s.status.conditions,
          JobConditions.FUNDED,
          false,
          admission.reason(),
          admission.message(),
          s.generation,
          s.now)) {
        events.record(job, EventRecorder.WARNING, admission.reason(), admission.message());
      }
      // Deposits happen on chain, not in the cluster: look again after a while.
      return FUNDS_RECHECK;
    }
    s.condition(JobConditions.FUNDED, true, admission.reason(), admission.message());
    startGang(s, placed.ranks(), null);
    s.status.plan = placed.summary();
    s.status.phase = TrainingJobPhase.Scheduled;
    if (s.status.restarts == 0 && job.getMetadata().getCreationTimestamp() != null) {
      metrics.queueWait(
          KIND, Duration.between(Instant.parse(job.getMetadata().getCreationTimestamp()), s.now));
    }
    metrics.estimatedThroughput(
        KIND,
        job.getMetadata().getNamespace(),
        job.getMetadata().getName(),
        Double.parseDouble(placed.summary().estimatedThroughput));
    s.condition(JobConditions.SCHEDULED, true, "Placed", placed.summary().reason);
    events.record(
        job,
        EventRecorder.NORMAL,
        "Scheduled",
        "placed " + describe(placed.ranks()) + ": " + placed.summary().reason);
    return null;
  }

  /** Why the budget gate stopped a running job, for its Warning event. */
  static String suspension(io.gpupool.operator.billing.Admission funds) {
    return io.gpupool.operator.billing.Admission.INSUFFICIENT_FUNDS.equals(funds.reason())
        ? "escrow dry past the grace period: " + funds.message()
        : funds.message();
  }

  private Duration follow(
      Step s, Context<TrainingJob> context, List<RankAssignment> ranks, Map<Integer, Pod> gang) {
    TrainingJob job = s.job;
    TrainingJobStatus status = s.status;
    Map<String, GangObserver.NodeState> nodes = new HashMap<>();
    for (RankAssignment r : ranks) {
      inventory
          .node(r.node())
          .ifPresent(
              n -> nodes.put(n.name(), new GangObserver.NodeState(n.ready(), n.notReadySince())));
    }
    List<String> unseen =
        ranks.stream()
            .filter(r -> !gang.containsKey(r.rank()))
            .map(r -> TrainingGang.podName(job, r.rank(), status.restarts))
            .toList();
    if (!unseen.isEmpty() && binder.createdRecently(job.getMetadata().getUid(), unseen, s.now)) {
      // Just created, not yet delivered by the pod informer (whose event will wake the job):
      // a late pod must not look deleted, which would restart the gang.
      s.condition(
          JobConditions.RUNNING,
          false,
          "Starting",
          (ranks.size() - unseen.size()) + " of " + ranks.size() + " pods seen");
      return Duration.ofSeconds(1);
    }
    GangObservation seen =
        GangObserver.observe(ranks, gang, nodes, config.nodes().lostGracePeriod(), s.now);
    if (seen instanceof GangObservation.Starting st) {
      if (status.phase != TrainingJobPhase.Running) {
        status.phase = TrainingJobPhase.Scheduled;
      }
      s.condition(
          JobConditions.RUNNING,
          false,
          "Starting",
          st.running() + " of " + st.total() + " ranks running");
      return null;
    }
    if (billing.enabled()) {
      io.gpupool.operator.billing.Admission funds = billing.whileRunning(job);
      if (funds.mustSuspend()) {
        removeGang(job, context);
        planner.release(job);
        status.placements = null;
        status.phase = TrainingJobPhase.Pending;
        s.condition(JobConditions.FUNDED, false, funds.reason(), funds.message());
        s.condition(JobConditions.RUNNING, false, funds.reason(), "suspended: " + funds.message());
        events.record(job, EventRecorder.WARNING, "Suspended", suspension(funds));
        return FUNDS_RECHECK;
      }
      s.condition(
          JobConditions.FUNDED,
          funds.mayRun() && funds.suspendAt() == null,
          funds.reason(),
          funds.message());
    }
    if (seen instanceof GangObservation.Running) {
      status.phase = TrainingJobPhase.Running;
      if (status.startTime == null) {
        status.startTime = Conditions.timestamp(s.now);
      }
      Conditions.remove(status.conditions, JobConditions.RESTARTING);
      s.condition(JobConditions.RUNNING, true, "AllRanksRunning", ranks.size() + " ranks running");
      return null;
    }
    if (seen instanceof GangObservation.Succeeded) {
      status.phase = TrainingJobPhase.Succeeded;
      status.completionTime = Conditions.timestamp(s.now);
      s.condition(JobConditions.RUNNING, false, "Completed", "all ranks exited 0");
      s.condition(
          JobConditions.SUCCEEDED, true, "Completed", "all " + ranks.size() + " ranks exited 0");
      planner.release(job);
      return null;
    }
    if (seen instanceof GangObservation.NodeSuspect suspect) {
      s.condition(
          JobConditions.RUNNING,
          status.phase == TrainingJobPhase.Running,
          "NodeNotReady",
          "node "
              + suspect.node()
              + " is NotReady; ranks move if it is not back by "
              + suspect.recheckAt());
      return Duration.between(s.now, suspect.recheckAt()).plusMillis(500);
    }
    if (seen instanceof GangObservation.RankFailed failed) {
      int limit = job.getSpec().backoffLimit == null ? 3 : job.getSpec().backoffLimit;
      RestartDecision decision =
          RestartDecision.forFailure(
              job.getSpec().restartPolicy,
              failed.exitCode(),
              status.restarts,
              limit,
              failed.what());
      if (!decision.restart()) {
        fail(s, context, decision.reason(), decision.message());
        return null;
      }
      restart(s, context, ranks, "Restarting", decision.message());
      return null;
    }
    GangObservation.NodesLost lost = (GangObservation.NodesLost) seen;
    {
      String what =
          "lost node(s) " + String.join(", ", lost.nodes()) + " under rank(s) " + lost.ranks();
      ranks.stream()
          .filter(r -> lost.nodes().contains(r.node()))
          .forEach(r -> reliability.nodeLost(r.node(), r.provider()));
      TrainingPlanner.Placement repaired = planner.repair(job, ranks, lost.nodes());
      if (repaired instanceof TrainingPlanner.Placed placed) {
        restart(
            s,
            context,
            placed.ranks(),
            "Rescheduled",
            what
                + "; moved to "
                + describe(placed.ranks())
                + " and restarting from the last checkpoint");
        metrics.recovery(KIND);
        status.plan = placed.summary();
      } else {
        removeGang(job, context);
        planner.release(job);
        status.placements = null;
        status.restarts++;
        status.resumeFrom = checkpoint(job);
        status.phase = TrainingJobPhase.Pending;
        String reason = ((TrainingPlanner.Unplaceable) repaired).reason();
        s.condition(
            JobConditions.SCHEDULED, false, "Unschedulable", what + "; no replacement: " + reason);
        events.record(
            job, EventRecorder.WARNING, "NodeLost", what + "; waiting for capacity: " + reason);
      }
      return null;
    }
  }

  /** Replaces the gang by a new generation on {@code ranks}, resuming from the checkpoint. */
  private void restart(
      Step s,
      Context<TrainingJob> context,
      List<RankAssignment> ranks,
      String reason,
      String message) {
    removeGang(s.job, context);
    s.status.restarts++;
    s.status.resumeFrom = checkpoint(s.job);
    startGang(s, ranks, s.status.resumeFrom);
    s.status.phase = TrainingJobPhase.Scheduled;
    s.condition(JobConditions.RESTARTING, true, reason, message);
    s.condition(JobConditions.RUNNING, false, reason, message);
    events.record(s.job, EventRecorder.WARNING, reason, message);
    metrics.restart(KIND, reason);
    LOG.infof("%s %s: %s", ref(s.job), reason, message);
  }

  private void fail(Step s, Context<TrainingJob> context, String reason, String message) {
    removeGang(s.job, context);
    planner.release(s.job);
    s.status.phase = TrainingJobPhase.Failed;
    s.status.completionTime = Conditions.timestamp(s.now);
    s.condition(JobConditions.RUNNING, false, reason, message);
    s.condition(JobConditions.FAILED, true, reason, message);
    events.record(s.job, EventRecorder.WARNING, reason, message);
  }

  /**
   * Records {@code ranks} as the job's placement and hands the new gang generation (the restart
   * count) to the binder, which creates it whole off this thread. If it cannot, the binder deletes
   * what it created and this releases the GPUs; the job is woken either way.
   */
  private void startGang(Step s, List<RankAssignment> ranks, String resumeFrom) {
    TrainingJob job = s.job;
    String strategy =
        s.status.plan != null && s.status.plan.strategy != null
            ? s.status.plan.strategy
            : "DataParallel";
    List<Pod> pods =
        TrainingGang.pods(job, ranks, strategy, s.status.restarts, s.status.restarts, resumeFrom);
    ResourceID id = ResourceID.fromResource(job);
    binder.bind(
        new GangBinder.Gang(
            job.getMetadata().getUid(),
            job.getMetadata().getNamespace(),
            TrainingGang.service(job),
            pods),
        why -> {
          planner.release(job);
          LOG.warnf("%s: %s", ref(job), why);
        },
        () -> wakeups.propagateEvent(id));
    s.status.placements =
        Placements.toStatus(ranks, job.getMetadata().getName(), s.status.restarts);
  }

  /**
   * True when the cached job is older than what this operator already did: its pods belong to a
   * later gang generation than status says, or its GPUs are held while status shows no placement.
   */
  private boolean staleStatus(TrainingJob job, Context<TrainingJob> context) {
    TrainingJobStatus st = job.getStatus();
    TrainingJobPhase phase = st == null ? null : st.phase;
    String key = job.getMetadata().getUid();
    if (phase == TrainingJobPhase.Succeeded || phase == TrainingJobPhase.Failed) {
      staleSince.remove(key);
      return false;
    }
    int restarts = st == null || st.restarts == null ? 0 : st.restarts;
    boolean newerPods =
        context.getSecondaryResources(Pod.class).stream()
            .map(p -> p.getMetadata().getLabels().get(TrainingGang.GENERATION_LABEL))
            .filter(java.util.Objects::nonNull)
            .anyMatch(g -> Integer.parseInt(g) > restarts);
    boolean placedButNotRecorded =
        (st == null || st.placements == null || st.placements.isEmpty()) && planner.holds(job);
    if (!newerPods && !placedButNotRecorded) {
      staleSince.remove(key);
      return false;
    }
    Instant since = staleSince.computeIfAbsent(key, k -> clock.instant());
    if (Duration.between(since, clock.instant()).compareTo(STALE_LIMIT) > 0) {
      // Our write was lost, not late: the cluster's copy is the truth from here on.
      LOG.warnf(
          "%s: status never showed the last placement; continuing from the stored status",
          ref(job));
      staleSince.remove(key);
      if (placedButNotRecorded) {
        planner.release(job);
      }
      return false;
    }
    return true;
  }

  /** The current generation's pods by rank; pods of older generations are deleted. */
  private Map<Integer, Pod> currentGang(TrainingJob job, Context<TrainingJob> context) {
    String generation =
        Integer.toString(job.getStatus().restarts == null ? 0 : job.getStatus().restarts);
    Map<Integer, Pod> gang = new HashMap<>();
    for (Pod pod : context.getSecondaryResources(Pod.class)) {
      Map<String, String> labels = pod.getMetadata().getLabels();
      if (generation.equals(labels.get(TrainingGang.GENERATION_LABEL))
          && pod.getMetadata().getDeletionTimestamp() == null) {
        gang.put(Integer.parseInt(labels.get(TrainingGang.RANK_LABEL)), pod);
      }
    }
    return gang;
  }

  private void removeGang(TrainingJob job, Context<TrainingJob> context) {
    Set<String> names =
        context.getSecondaryResources(Pod.class).stream()
            .filter(
                p -> !"Succeeded".equals(p.getStatus() == null ? null : p.getStatus().getPhase()))
            .map(p -> p.getMetadata().getName())
            .collect(Collectors.toSet());
    for (String name : names) {
      client.pods().inNamespace(job.getMetadata().getNamespace()).withName(name).delete();
    }
  }

  @Override
  public DeleteControl cleanup(TrainingJob job, Context<TrainingJob> context) {
    if (binder.busy(job.getMetadata().getUid())) {
      // Let the gang being created finish, so the pods deleted below include all of it.
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(STALE_RECHECK.toMillis());
    }
    // Owner references let Kubernetes collect the pods too; deleting them here frees the GPUs now.
    String ns = job.getMetadata().getNamespace();
    client
        .pods()
        .inNamespace(ns)
        .withLabel(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName())
        .delete();
    client.services().inNamespace(ns).withName(job.getMetadata().getName()).delete();
    planner.release(job);
    metrics.phase(KIND, job.getMetadata().getNamespace(), job.getMetadata().getName(), null);
    ownWrites.forget(job);
    binder.forget(job.getMetadata().getUid());
    LOG.infof("%s deleted: pods removed, GPUs released", ref(job));
    return DeleteControl.defaultDelete();
  }

  /** Pods that just ended are metered shortly after; keep looking for their usage a while. */
  private boolean recentlyEnded(TrainingJobStatus status) {
    return status.completionTime != null
        && Instant.parse(status.completionTime)
            .plus(Duration.ofMinutes(5))
            .isAfter(clock.instant());
  }

  /** What the gang costs per hour at its providers' prices, in wei. */
  private java.math.BigInteger weiPerHour(List<RankAssignment> ranks) {
    java.math.BigInteger total = java.math.BigInteger.ZERO;
    for (RankAssignment r : ranks) {
      total =
          total.add(
              billing
                  .weiPerHour(r.provider(), r.gpuProduct(), 1000L * r.gpus())
                  .orElse(java.math.BigInteger.ZERO));
    }
    return total;
  }

  private static boolean isTerminal(TrainingJobPhase phase) {
    return phase == TrainingJobPhase.Succeeded || phase == TrainingJobPhase.Failed;
  }

  private static String checkpoint(TrainingJob job) {
    return job.getSpec().checkpoint == null ? null : job.getSpec().checkpoint.uri;
  }

  private static String describe(List<RankAssignment> ranks) {
    return ranks.size()
        + " ranks on "
        + ranks.stream()
            .map(r -> r.node() + "(" + r.gpus() + "x" + r.gpuProduct() + ")")
            .distinct()
            .collect(Collectors.joining(", "));
  }

  static String ref(TrainingJob job) {
    return "TrainingJob("
        + job.getMetadata().getNamespace()
        + "/"
        + job.getMetadata().getName()
        + ")";
  }
}
