package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.allocation.PodGpus;
import io.gpupool.operator.billing.Admission;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.pool.ProviderDirectory;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.status.OwnStatusWrites;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.status.StatusReplace;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.SpecProblems;
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
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.inbound.SimpleInboundEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Drives an InferenceJob: places replica groups (GPU shares, whole GPUs or sharded groups), keeps
 * the desired count serving behind one Service, recreates a group whose shard failed or whose node
 * was lost, scales on in-flight requests and rolls spec changes out replica by replica.
 *
 * <p>The job's pods are listed from the API server on each reconcile rather than read from the
 * informer cache, so a group created by the previous reconcile is never missed; the desired count
 * lives in status, protected against stale copies by {@link OwnStatusWrites}. Capacity events wake
 * waiting jobs; only the load signal is polled (load has no events).
 */
@ControllerConfiguration(name = InferenceJobReconciler.NAME)
public class InferenceJobReconciler implements Reconciler<InferenceJob>, Cleaner<InferenceJob> {
  public static final String NAME = "inferencejob";
  static final String KIND = InferenceGroup.KIND;

  /** Condition: the last autoscaling decision (ScaledUp, ScaledDown, ScaleDownPending, Steady). */
  public static final String SCALING = "Scaling";

  /** Condition: at least the minimum replicas are ready behind the endpoint. */
  public static final String SERVING = "Serving";

  /** Condition: pods run an older spec and are being replaced replica by replica. */
  public static final String ROLLING_UPDATE = "RollingUpdate";

  private static final Logger LOG = Logger.getLogger(InferenceJobReconciler.class);
  private static final Duration NOT_READY_RECHECK = Duration.ofSeconds(1);

  /** Deposits happen on chain, not in the cluster: a refused job looks again after this. */
  private static final Duration FUNDS_RECHECK = Duration.ofSeconds(60);

  /** Cost grows while replicas serve: status.usage is refreshed at least this often. */
  private static final Duration USAGE_REFRESH = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final EventRecorder events;
  private final InferencePlanner planner;
  private final NodeInventory inventory;
  private final GpupoolConfig config;
  private final JobMetrics metrics;
  private final LoadSignal load;
  private final BillingService billing;
  private final InferenceMetrics scaleMetrics;
  private final Duration pollInterval;
  private final Duration drainPeriod;
  private final Clock clock = Clock.systemUTC();
  private final OwnStatusWrites<InferenceJob, InferenceJobStatus> ownWrites =
      new OwnStatusWrites<>(
          InferenceJobStatus.class, InferenceJob::getStatus, InferenceJob::setStatus);
  private final SimpleInboundEventSource<InferenceJob> wakeups =
      new SimpleInboundEventSource<>("inferencejob-capacity");

  /** What a job's reconciles remember between runs (autoscaler timing, replacements). */
  private static final class Memory {
    Instant lastPoll;
    Instant lowSince;
    boolean replacing;
  }

  private final Map<String, Memory> memory = new ConcurrentHashMap<>();
  private volatile IndexerResourceCache<InferenceJob> jobs;

  public InferenceJobReconciler(
      KubernetesClient client,
      EventRecorder events,
      InferencePlanner planner,
      NodeInventory inventory,
      GpupoolConfig config,
      AllocationLedger ledger,
      ProviderDirectory providers,
      JobMetrics metrics,
      LoadSignal load,
      BillingService billing,
      InferenceMetrics scaleMetrics) {
    this.client = client;
    this.events = events;
    this.planner = planner;
    this.inventory = inventory;
    this.config = config;
    this.metrics = metrics;
    this.load = load;
    this.billing = billing;
    this.scaleMetrics = scaleMetrics;
    this.pollInterval = config.inference().loadPollInterval();
    this.drainPeriod = config.inference().drainPeriod();
    ledger.onRelease(() -> wake(null));
    inventory.onChange(this::wake);
    providers.onChange(provider -> wake(null));
    billing.onAccountsChange(this::wakeAll);
  }

  @Override
  public List<EventSource<?, InferenceJob>> prepareEventSources(
      EventSourceContext<InferenceJob> context) {
    this.jobs = context.getPrimaryCache();
    var pods =
        InformerEventSourceConfiguration.from(Pod.class, InferenceJob.class)
            .withName("inferencejob-pods")
            .withLabelSelector(GpupoolApi.JOB_KIND_LABEL + "=" + KIND)
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(InferenceJob.class))
            .build();
    return List.of(new InformerEventSource<>(pods, context), wakeups);
  }

  /** Wakes every job: its namespace may have been bound to, or unbound from, its account. */
  private void wakeAll() {
    var cache = jobs;
    if (cache != null) {
      cache.list().forEach(job -> wakeups.propagateEvent(ResourceID.fromResource(job)));
    }
  }

  /** Wakes jobs short of replicas, and jobs with shards on {@code nodeName} (null: none). */
  private void wake(String nodeName) {
    var cache = jobs;
    if (cache == null) {
      return;
    }
    cache
        .list()
        .forEach(
            job -> {
              InferenceJobStatus s = job.getStatus();
              boolean short_ =
                  s == null
                      || s.phase == null
                      || s.phase == InferenceJobPhase.Pending
                      || s.phase == InferenceJobPhase.Deploying
                      || s.phase == InferenceJobPhase.Degraded
                      || s.replicas == null
                      || s.desiredReplicas == null
                      || s.replicas.size() < s.desiredReplicas;
              boolean onNode =
                  nodeName != null
                      && s != null
                      && s.replicas != null
                      && s.replicas.stream()
                          .filter(r -> r.shards != null)
                          .flatMap(r -> r.shards.stream())
                          .anyMatch(sh -> nodeName.equals(sh.node));
              if (short_ || onNode) {
                wakeups.propagateEvent(ResourceID.fromResource(job));
              }
            });
  }

  @Override
  public UpdateControl<InferenceJob> reconcile(InferenceJob job, Context<InferenceJob> context) {
    return metrics.reconcile(NAME, () -> reconcileJob(job));
  }

  private UpdateControl<InferenceJob> reconcileJob(InferenceJob job) {
    ownWrites.overlay(job);
    InferenceJobStatus before = StatusDiff.copy(job.getStatus(), InferenceJobStatus.class);
    InferenceJobStatus status =
        job.getStatus() == null ? new InferenceJobStatus() : job.getStatus();
    job.setStatus(status);
    Step s = new Step(job, status, clock.instant());
    Duration recheck = drive(s);
    billing.usage(job.getMetadata().getUid()).ifPresent(usage -> status.usage = usage);
    if (status.replicas != null && !status.replicas.isEmpty()) {
      recheck = recheck == null || recheck.compareTo(USAGE_REFRESH) > 0 ? USAGE_REFRESH : recheck;
    }
    status.observedGeneration = s.generation;
    if (status.desiredReplicas != null) {
      scaleMetrics.replicas(
          job.getMetadata().getNamespace(),
          job.getMetadata().getName(),
          status.desiredReplicas,
          status.readyReplicas == null ? 0 : status.readyReplicas);
    }
    metrics.phase(
        KIND,
        job.getMetadata().getNamespace(),
        job.getMetadata().getName(),
        String.valueOf(status.phase));
    if (s.previousPhase != status.phase) {
      events.record(
          job,
          status.phase == InferenceJobPhase.Degraded ? EventRecorder.WARNING : EventRecorder.NORMAL,
          String.valueOf(status.phase),
          "InferenceJob is " + status.phase);
    }
    UpdateControl<InferenceJob> control = UpdateControl.noUpdate();
    if (before == null || StatusDiff.changed(before, status)) {
      ownWrites.remember(job);
      writeStatus(job);
    }
    return recheck == null ? control : control.rescheduleAfter(recheck);
  }

  /**
   * Writes the whole status in one patch ({@link StatusReplace}, as TrainingJob and GpuProvider
   * do): the SDK's status patch diffs against the cached copy the reconcile started from, which may
   * be older than our own last write, so its list operations would apply to the wrong elements.
   */
  private void writeStatus(InferenceJob job) {
    StatusReplace.write(client, InferenceJob.class, job, job.getStatus());
  }

  /** One reconcile's working set. */
  private static final class Step {
    final InferenceJob job;
    final InferenceJobStatus status;
    final Instant now;
    final Long generation;
    final InferenceJobPhase previousPhase;
    Duration recheck;

    Step(InferenceJob job, InferenceJobStatus status, Instant now) {
      this.job = job;
      this.status = status;
      this.now = now;
      this.generation = job.getMetadata().getGeneration();
      this.previousPhase = status.phase;
    }

    boolean condition(String type, boolean value, String reason, String message) {
      return Conditions.set(status.conditions, type, value, reason, message, generation, now);
    }

    void recheckIn(Duration d) {
      Duration positive = d.isNegative() ? Duration.ofMillis(100) : d;
      if (recheck == null || positive.compareTo(recheck) < 0) {
        recheck = positive;
      }
    }
  }

  private Duration drive(Step s) {
    InferenceJob job = s.job;
    InferenceJobStatus status = s.status;
    SpecProblems problems = InferenceJobValidator.validate(job);
    if (!problems.isEmpty()) {
      if (status.phase == null) {
        status.phase = InferenceJobPhase.Pending;
      }
      if (s.condition(JobConditions.SPEC_VALID, false, "InvalidSpec", problems.summary())) {
        events.record(job, EventRecorder.WARNING, "InvalidSpec", problems.summary());
        LOG.infof("%s refused: %s", ref(job), problems.summary());
      }
      return null;
    }
    s.condition(JobConditions.SPEC_VALID, true, "Valid", "spec accepted");
    InferenceJobSpec spec = job.getSpec();
    Memory mem = memory.computeIfAbsent(job.getMetadata().getUid(), k -> new Memory());

    if (Boolean.TRUE.equals(spec.suspend)) {
      if (status.phase != InferenceJobPhase.Suspended) {
        removeAll(job);
        planner.release(job);
        status.replicas = new ArrayList<>();
        status.readyReplicas = 0;
        status.totalGpus = 0;
        status.phase = InferenceJobPhase.Suspended;
        s.condition(JobConditions.SUSPENDED, true, "Suspended", "spec.suspend is true");
        s.condition(SERVING, false, "Suspended", "suspended");
        events.record(job, EventRecorder.NORMAL, "Suspended", "pods removed, GPUs released");
      }
      return null;
    }
    if (status.phase == InferenceJobPhase.Suspended) {
      Conditions.remove(status.conditions, JobConditions.SUSPENDED);
      status.phase = InferenceJobPhase.Pending;
      events.record(job, EventRecorder.NORMAL, "Resumed", "spec.suspend is false: re-placing");
    }
    if (status.phase == null) {
      status.phase = InferenceJobPhase.Pending;
    }
    if (!planner.ready()) {
      s.condition(JobConditions.SCHEDULED, false, "Queued", "waiting for the pool to be read");
      return Duration.ofSeconds(1);
    }

    List<ReplicaGroup> groups = ReplicaGroup.of(listPods(job));
    if (!groups.isEmpty() && suspendedByBudget(s)) {
      return FUNDS_RECHECK;
    }
    boolean removed = false;

    // Failed shards and lost nodes: the whole group goes, and is placed again below.
    List<ReplicaGroup> surviving = new ArrayList<>();
    for (ReplicaGroup g : groups) {
      String failure = g.failure();
      String lost = failure == null ? lostNode(g, s) : null;
      if (failure != null) {
        deleteGroup(job, g);
        removed = true;
        mem.replacing = !g.draining() || mem.replacing;
        if (!g.draining()) {
          events.record(
              job,
              EventRecorder.WARNING,
              "ReplicaFailed",
              "replica " + g.replica() + ": " + failure + "; recreating the whole group");
          metrics.restart(KIND, "ReplicaFailed");
        }
      } else if (lost != null) {
        deleteGroup(job, g);
        removed = true;
        mem.replacing = !g.draining() || mem.replacing;
        events.record(
            job,
            EventRecorder.WARNING,
            "NodeLost",
            "replica " + g.replica() + ": " + lost + "; recreating the group elsewhere");
        metrics.recovery(KIND);
      } else {
        surviving.add(g);
      }
    }

    // Drained groups past their drain period go.
    List<ReplicaGroup> active = new ArrayList<>();
    List<ReplicaGroup> draining = new ArrayList<>();
    for (ReplicaGroup g : surviving) {
      if (!g.draining()) {
        active.add(g);
        continue;
      }
      Instant due = drainingSince(g, s.now).plus(drainPeriod);
      if (!s.now.isBefore(due)) {
        deleteGroup(job, g);
        removed = true;
        events.record(
            job,
            EventRecorder.NORMAL,
            "Drained",
            "replica " + g.replica() + " removed after drain");
      } else {
        draining.add(g);
        s.recheckIn(Duration.between(s.now, due));
      }
    }

    int floor = Math.max(1, spec.replicas.min == null ? 1 : spec.replicas.min);
    int max = Math.max(floor, spec.replicas.max);
    int desired =
        Autoscaler.clamp(
            status.desiredReplicas == null ? floor : status.desiredReplicas, floor, max);
    desired = autoscale(s, mem, active, floor, max, desired);
    status.desiredReplicas = desired;

    // Rolling update: surge one replica of the new spec at a time, then retire an old one.
    String hash = InferenceGroup.specHash(spec);
    List<ReplicaGroup> stale = active.stream().filter(g -> !hash.equals(g.specHash())).toList();
    boolean freshSettled =
        active.stream().filter(g -> hash.equals(g.specHash())).allMatch(ReplicaGroup::ready);
    int toAdd = Math.max(0, desired - active.size());
    boolean surge = false;
    if (!stale.isEmpty()) {
      if (s.condition(
          ROLLING_UPDATE,
          true,
          "Updating",
          stale.size() + " replica(s) run an older spec; replacing one at a time")) {
        events.record(
            job,
            EventRecorder.NORMAL,
            "RollingUpdate",
            stale.size() + " replica(s) to update, one at a time, keeping " + desired + " ready");
      }
      if (toAdd == 0 && freshSettled && active.size() == desired) {
        toAdd = 1;
        surge = true;
      }
    } else {
      Conditions.remove(status.conditions, ROLLING_UPDATE);
    }

    // Too many replicas: drain (leaders leave the Service first), never below the desired ready.
    int excess = active.size() - desired;
    if (excess > 0) {
      int readyNow = (int) active.stream().filter(ReplicaGroup::ready).count();
      List<ReplicaGroup> victims = new ArrayList<>();
      if (!stale.isEmpty()) {
        stale.stream().filter(g -> !g.ready()).forEach(victims::add);
        if (freshSettled) {
          stale.stream().filter(ReplicaGroup::ready).forEach(victims::add);
        }
      } else {
        Comparator<ReplicaGroup> highestFirst =
            Comparator.comparingInt(ReplicaGroup::replica).reversed();
        active.stream().filter(g -> !g.ready()).sorted(highestFirst).forEach(victims::add);
        active.stream().filter(ReplicaGroup::ready).sorted(highestFirst).forEach(victims::add);
      }
      for (ReplicaGroup v : victims) {
        if (excess == 0) {
          break;
        }
        if (!v.ready()) {
          deleteGroup(job, v);
          removed = true;
        } else if (readyNow - 1 >= desired) {
          drain(job, v, s.now);
          readyNow--;
          draining.add(v);
          s.recheckIn(drainPeriod);
        } else {
          continue;
        }
        active.remove(v);
        excess--;
      }
    }

    List<Pod> remaining = new ArrayList<>();
    active.forEach(g -> remaining.addAll(g.pods()));
    draining.forEach(g -> remaining.addAll(g.pods()));
    Map<String, Integer> held = slots(remaining);
    if (removed) {
      planner.hold(job, held);
    }

    if (toAdd > 0) {
      boolean placed = place(s, mem, active, draining, held, toAdd);
      if (!placed && surge) {
        // No room for an extra replica: update in place, one replica at a time, as long as the
        // others keep the minimum ready.
        int readyNow = (int) active.stream().filter(ReplicaGroup::ready).count();
        ReplicaGroup victim =
            stale.stream().filter(g -> !g.ready()).findFirst().orElse(stale.get(0));
        if (!victim.ready()) {
          deleteGroup(job, victim);
          planner.hold(job, slots(without(remaining, victim)));
        } else if (readyNow - 1 >= floor) {
          drain(job, victim, s.now);
          s.recheckIn(drainPeriod);
        }
      }
    }
    if (toAdd == 0 && !active.isEmpty()) {
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
      ensureService(job);
      status.endpoint = InferenceGroup.endpoint(job);
    }
    report(s, mem, floor);
    if (status.readyReplicas < status.desiredReplicas && !active.isEmpty()) {
      s.recheckIn(NOT_READY_RECHECK.multipliedBy(5));
    }
    return s.recheck;
  }

  /**
   * Stops a serving job its budget no longer covers: its metered cost reached {@code
   * spec.budget.maxCost}, or its payer's escrow has been dry past the grace period ({@code
   * gpupool.billing.suspend-grace}, asked of the chain only when billing is enabled). Every replica
   * is removed and its GPUs released, so usage stops, as a TrainingJob is suspended; the job is
   * placed again once admission lets it. Returns true when the job was stopped now.
   */
  private boolean suspendedByBudget(Step s) {
    InferenceJob job = s.job;
    Optional<String> capped = costCapReached(job);
    if (capped.isPresent()) {
      suspend(s, CostCap.REASON, capped.get());
      return true;
    }
    if (!billing.enabled()) {
      return false;
    }
    Admission funds = billing.whileRunning(job);
    if (funds.mustSuspend()) {
      suspend(
          s,
          funds.reason(),
          Admission.INSUFFICIENT_FUNDS.equals(funds.reason())
              ? "escrow dry past the grace period: " + funds.message()
              : funds.message());
      return true;
    }
    if (s.condition(
            JobConditions.FUNDED,
            funds.mayRun() && funds.suspendAt() == null,
            funds.reason(),
            funds.message())
        && funds.suspendAt() != null) {
      events.record(job, EventRecorder.WARNING, funds.reason(), funds.message());
    }
    if (funds.suspendAt() != null) {
      s.recheckIn(Duration.between(s.now, funds.suspendAt()).plusMillis(200));
    }
    return false;
  }

  private Optional<String> costCapReached(InferenceJob job) {
    return CostCap.reached(
        job.getSpec().budget, billing.usage(job.getMetadata().getUid()).orElse(null));
  }

  private void suspend(Step s, String reason, String message) {
    InferenceJob job = s.job;
    removeAll(job);
    planner.release(job);
    InferenceJobStatus status = s.status;
    status.replicas = new ArrayList<>();
    status.readyReplicas = 0;
    status.totalGpus = 0;
    status.phase = InferenceJobPhase.Pending;
    s.condition(JobConditions.FUNDED, false, reason, message);
    s.condition(SERVING, false, reason, "suspended: " + message);
    events.record(job, EventRecorder.WARNING, "Suspended", "every replica removed: " + message);
    LOG.infof("%s suspended: %s", ref(job), message);
  }

  /**
   * The budget gate for new replicas: the job must be under its {@code spec.budget.maxCost}, and
   * the payer's escrow must cover what the job would cost per hour with them (running and draining
   * groups included) for one settlement interval. A refused placement gives its GPUs back; replicas
   * already serving keep serving.
   */
  private boolean admitted(
      Step s,
      List<ReplicaGroup> active,
      List<ReplicaGroup> draining,
      Map<String, Integer> held,
      InferencePlanner.Placed placed) {
    List<Pod> running = new ArrayList<>();
    active.forEach(g -> running.addAll(g.pods()));
    draining.forEach(g -> running.addAll(g.pods()));
    List<ShardAssignment> planned =
        placed.groups().values().stream().flatMap(List::stream).toList();
    Optional<String> capped = costCapReached(s.job);
    Admission admission =
        capped.isPresent()
            ? null
            : billing.admit(s.job, ReplicaCost.weiPerHour(running, planned, billing::weiPerHour));
    if (admission != null && admission.mayRun()) {
      s.condition(JobConditions.FUNDED, true, admission.reason(), admission.message());
      return true;
    }
    planner.hold(s.job, held);
    String reason = admission == null ? CostCap.REASON : admission.reason();
    String message =
        (active.isEmpty() ? "" : placed.groups().size() + " more replica(s) not started: ")
            + (admission == null ? capped.get() : admission.message());
    if (s.condition(JobConditions.FUNDED, false, reason, message)) {
      events.record(s.job, EventRecorder.WARNING, reason, message);
      LOG.infof("%s refused by the budget gate: %s", ref(s.job), message);
    }
    s.recheckIn(FUNDS_RECHECK);
    return false;
  }

  /** Reads the load and moves the desired count; returns it. */
  private int autoscale(
      Step s, Memory mem, List<ReplicaGroup> active, int floor, int max, int desired) {
    InferenceJobSpec spec = s.job.getSpec();
    if (spec.autoscaling == null || max <= floor) {
      Conditions.remove(s.status.conditions, SCALING);
      return Autoscaler.clamp(desired, floor, max);
    }
    if (mem.lastPoll != null && s.now.isBefore(mem.lastPoll.plus(pollInterval))) {
      s.recheckIn(Duration.between(s.now, mem.lastPoll.plus(pollInterval)));
      return desired;
    }
    mem.lastPoll = s.now;
    s.recheckIn(pollInterval);
    List<Double> loads = new ArrayList<>();
    int port = InferenceGroup.port(spec);
    for (ReplicaGroup g : active) {
      Pod leader = g.leader();
      if (g.ready() && leader != null) {
        OptionalDouble v = load.inFlight(leader, port, spec.autoscaling.metricsPath);
        if (v.isPresent()) {
          loads.add(v.getAsDouble());
        }
      }
    }
    int target =
        spec.autoscaling.targetInFlightRequests == null
            ? 8
            : spec.autoscaling.targetInFlightRequests;
    int window =
        spec.autoscaling.scaleDownStabilizationSeconds == null
            ? 60
            : spec.autoscaling.scaleDownStabilizationSeconds;
    Autoscaler.Decision d =
        Autoscaler.decide(
            floor, max, desired, loads, target, mem.lowSince, s.now, Duration.ofSeconds(window));
    mem.lowSince = d.lowSince();
    String ns = s.job.getMetadata().getNamespace();
    String name = s.job.getMetadata().getName();
    scaleMetrics.load(
        ns, name, loads.stream().mapToDouble(Double::doubleValue).sum(), loads.size(), target);
    if (d.scaled()) {
      scaleMetrics.scaled(
          ns, name, d.desired() > desired ? InferenceMetrics.UP : InferenceMetrics.DOWN);
    }
    if ("NoSignal".equals(d.reason())
        && s.status.conditions.stream().anyMatch(c -> SCALING.equals(c.getType()))) {
      return d.desired();
    }
    s.condition(SCALING, d.scaled(), d.reason(), d.message());
    if (d.scaled()) {
      events.record(s.job, EventRecorder.NORMAL, d.reason(), d.message());
      LOG.infof("%s %s: %s", ref(s.job), d.reason(), d.message());
    }
    return d.desired();
  }

  /** Places {@code count} new replica groups and creates their pods; each group whole or none. */
  private boolean place(
      Step s,
      Memory mem,
      List<ReplicaGroup> active,
      List<ReplicaGroup> draining,
      Map<String, Integer> held,
      int count) {
    InferenceJob job = s.job;
    Set<Integer> used = new HashSet<>();
    active.forEach(g -> used.add(g.replica()));
    draining.forEach(g -> used.add(g.replica()));
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; indices.size() < count; i++) {
      if (!used.contains(i)) {
        indices.add(i);
      }
    }
    Set<String> providers =
        active.stream()
            .flatMap(g -> g.pods().stream())
            .map(p -> p.getMetadata().getLabels().get(GpupoolApi.PROVIDER_LABEL))
            .filter(java.util.Objects::nonNull)
            .collect(Collectors.toSet());
    InferencePlanner.Placement placement = planner.add(job, held, providers, indices);
    if (placement instanceof InferencePlanner.Unplaceable u) {
      String message =
          (active.isEmpty() ? "" : "serving " + active.size() + "; ")
              + count
              + " more replica(s) unschedulable: "
              + u.reason();
      if (s.condition(JobConditions.SCHEDULED, false, "Unschedulable", message)) {
        events.record(job, EventRecorder.WARNING, "Unschedulable", message);
      }
      return false;
    }
    InferencePlanner.Placed placed = (InferencePlanner.Placed) placement;
    if (!admitted(s, active, draining, held, placed)) {
      return false;
    }
    String hash = InferenceGroup.specHash(job.getSpec());
    Map<String, Integer> kept = new HashMap<>(held);
    for (var e : placed.groups().entrySet()) {
      List<ShardAssignment> shards = e.getValue();
      String group = UUID.randomUUID().toString().substring(0, 5);
      List<Pod> pods = InferenceGroup.pods(job, shards, group, hash);
      createGroup(job, e.getKey(), group, pods, placed, kept);
      shards.forEach(sh -> kept.merge(sh.node(), sh.slots(), Integer::sum));
      String message = "replica " + e.getKey() + ": " + describe(shards);
      events.record(job, EventRecorder.NORMAL, "Scheduled", message);
      LOG.infof("%s %s", ref(job), message);
    }
    if (s.status.replicas == null || s.status.replicas.isEmpty()) {
      if (job.getMetadata().getCreationTimestamp() != null
          && (s.previousPhase == null || s.previousPhase == InferenceJobPhase.Pending)) {
        metrics.queueWait(
            KIND, Duration.between(Instant.parse(job.getMetadata().getCreationTimestamp()), s.now));
      }
    }
    s.condition(JobConditions.SCHEDULED, true, "Placed", placed.reason());
    return true;
  }

  /**
   * Creates a group's headless Service and pods. If one pod cannot be created the others are
   * deleted and the group's GPUs released: no partial group survives. Rethrows so the SDK retries.
   */
  private void createGroup(
      InferenceJob job,
      int replica,
      String group,
      List<Pod> pods,
      InferencePlanner.Placed placed,
      Map<String, Integer> kept) {
    String ns = job.getMetadata().getNamespace();
    List<Pod> created = new ArrayList<>();
    try {
      client
          .services()
          .inNamespace(ns)
          .resource(InferenceGroup.groupService(job, replica, group))
          .createOr(existing -> existing.update());
      for (Pod pod : pods) {
        created.add(client.pods().inNamespace(ns).resource(pod).create());
      }
    } catch (KubernetesClientException e) {
      for (Pod pod : created) {
        client.pods().inNamespace(ns).withName(pod.getMetadata().getName()).delete();
      }
      planner.hold(job, kept);
      throw new GroupCreationException(
          ref(job)
              + ": replica "
              + replica
              + " rolled back after "
              + created.size()
              + " of "
              + pods.size()
              + " pods: "
              + e.getMessage(),
          e);
    }
  }

  /** Builds status from the pods as they are now, and the phase from the ready count. */
  private void report(Step s, Memory mem, int floor) {
    InferenceJobStatus status = s.status;
    List<ReplicaGroup> groups = ReplicaGroup.of(listPods(s.job));
    List<ReplicaStatus> replicas = new ArrayList<>();
    int ready = 0;
    int wholeGpus = 0;
    int shareMilli = 0;
    for (ReplicaGroup g : groups) {
      for (Pod p : g.pods()) {
        int gpus = intAnnotation(p, InferenceGroup.GPUS_ANNOTATION, 1);
        int milli = intAnnotation(p, InferenceGroup.GPU_MILLI_ANNOTATION, 1000);
        if (milli >= 1000) {
          wholeGpus += gpus;
        } else {
          shareMilli += milli;
        }
      }
      if (g.draining()) {
        continue;
      }
      ReplicaStatus r = new ReplicaStatus();
      r.index = g.replica();
      r.ready = g.ready();
      r.pipelineParallelSize = g.size();
      Pod leader = g.leader();
      r.tensorParallelSize =
          leader == null ? null : intAnnotation(leader, InferenceGroup.GPUS_ANNOTATION, 1);
      r.shards = new ArrayList<>();
      for (Pod p : g.pods()) {
        r.shards.add(shard(p));
      }
      if (r.ready) {
        ready++;
      }
      replicas.add(r);
    }
    removeUnusedGroupServices(s.job, groups);
    // An empty list, not null: a merge patch leaves out nulls, which would keep the old list.
    status.replicas = replicas;
    status.readyReplicas = ready;
    status.totalGpus = wholeGpus + (shareMilli + 999) / 1000;
    if (ready >= status.desiredReplicas) {
      mem.replacing = false;
    }
    if (replicas.isEmpty()) {
      status.phase = InferenceJobPhase.Pending;
      s.condition(SERVING, false, "NoReplicas", "no replica placed");
    } else if (ready >= floor) {
      status.phase =
          ready < status.desiredReplicas && mem.replacing
              ? InferenceJobPhase.Degraded
              : InferenceJobPhase.Serving;
      s.condition(
          SERVING, true, "MinimumReady", ready + " of " + status.desiredReplicas + " ready");
    } else {
      status.phase =
          s.previousPhase == InferenceJobPhase.Serving
                  || s.previousPhase == InferenceJobPhase.Degraded
              ? InferenceJobPhase.Degraded
              : InferenceJobPhase.Deploying;
      s.condition(
          SERVING,
          false,
          "BelowMinimum",
          ready + " of " + status.desiredReplicas + " ready, minimum " + floor);
    }
  }

  private static ShardPlacement shard(Pod p) {
    ShardPlacement sp = new ShardPlacement();
    sp.index = ReplicaGroup.intLabel(p, InferenceGroup.SHARD_LABEL, 0);
    sp.pod = p.getMetadata().getName();
    sp.node = p.getSpec().getNodeName();
    sp.provider = p.getMetadata().getLabels().get(GpupoolApi.PROVIDER_LABEL);
    var a = p.getMetadata().getAnnotations();
    sp.gpuModel = a == null ? null : a.get(InferenceGroup.GPU_PRODUCT_ANNOTATION);
    sp.gpus = intAnnotation(p, InferenceGroup.GPUS_ANNOTATION, 1);
    int milli = intAnnotation(p, InferenceGroup.GPU_MILLI_ANNOTATION, 1000);
    sp.gpuMilli = milli < 1000 ? milli : null;
    String layers = a == null ? null : a.get(InferenceGroup.LAYERS_ANNOTATION);
    if (layers != null && layers.matches("\\d+-\\d+")) {
      String[] p2 = layers.split("-");
      sp.firstLayer = Integer.parseInt(p2[0]);
      sp.lastLayer = Integer.parseInt(p2[1]);
    }
    return sp;
  }

  /** Why the group's node counts as lost (deleted, or NotReady past the grace period), or null. */
  private String lostNode(ReplicaGroup g, Step s) {
    Duration grace = config.nodes().lostGracePeriod();
    for (Pod p : g.pods()) {
      String name = p.getSpec().getNodeName();
      var node = inventory.node(name);
      if (node.isEmpty()) {
        return "node " + name + " is gone";
      }
      GpuNode n = node.get();
      if (!n.ready() && n.notReadySince() != null) {
        Instant due = n.notReadySince().plus(grace);
        if (!s.now.isBefore(due)) {
          return "node " + name + " NotReady since " + n.notReadySince();
        }
        s.recheckIn(Duration.between(s.now, due).plusMillis(200));
      }
    }
    return null;
  }

  private void drain(InferenceJob job, ReplicaGroup g, Instant now) {
    String ns = job.getMetadata().getNamespace();
    for (Pod p : g.pods()) {
      client
          .pods()
          .inNamespace(ns)
          .withName(p.getMetadata().getName())
          .edit(
              pod -> {
                pod.getMetadata().getLabels().put(InferenceGroup.DRAINING_LABEL, "true");
                pod.getMetadata()
                    .getAnnotations()
                    .put(InferenceGroup.DRAINING_SINCE_ANNOTATION, now.toString());
                return pod;
              });
    }
    events.record(
        job,
        EventRecorder.NORMAL,
        "Draining",
        "replica "
            + g.replica()
            + " left the Service; removed after "
            + drainPeriod.toSeconds()
            + "s");
  }

  private static Instant drainingSince(ReplicaGroup g, Instant otherwise) {
    for (Pod p : g.pods()) {
      var a = p.getMetadata().getAnnotations();
      String v = a == null ? null : a.get(InferenceGroup.DRAINING_SINCE_ANNOTATION);
      if (v != null) {
        try {
          return Instant.parse(v);
        } catch (java.time.format.DateTimeParseException e) {
          return otherwise;
        }
      }
    }
    return otherwise;
  }

  private void deleteGroup(InferenceJob job, ReplicaGroup g) {
    String ns = job.getMetadata().getNamespace();
    for (Pod p : g.pods()) {
      client.pods().inNamespace(ns).withName(p.getMetadata().getName()).delete();
    }
    // The headless Service of this replica index is shared with a later incarnation; it is
    // recreated (or kept) with the next group of this index and goes with the job.
  }

  /** Headless Services of replica indices no group uses any more (after a scale-down). */
  private void removeUnusedGroupServices(InferenceJob job, List<ReplicaGroup> groups) {
    Set<String> used =
        groups.stream().map(g -> Integer.toString(g.replica())).collect(Collectors.toSet());
    String ns = job.getMetadata().getNamespace();
    client
        .services()
        .inNamespace(ns)
        .withLabel(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName())
        .withLabel(GpupoolApi.JOB_KIND_LABEL, KIND)
        .withLabel(InferenceGroup.REPLICA_LABEL)
        .list()
        .getItems()
        .stream()
        .filter(
            svc -> !used.contains(svc.getMetadata().getLabels().get(InferenceGroup.REPLICA_LABEL)))
        .forEach(svc -> client.services().inNamespace(ns).resource(svc).delete());
  }

  private void ensureService(InferenceJob job) {
    String ns = job.getMetadata().getNamespace();
    if (client.services().inNamespace(ns).withName(job.getMetadata().getName()).get() == null) {
      client.services().inNamespace(ns).resource(InferenceGroup.service(job)).create();
    }
  }

  private void removeAll(InferenceJob job) {
    String ns = job.getMetadata().getNamespace();
    for (Pod p : listPods(job)) {
      client.pods().inNamespace(ns).withName(p.getMetadata().getName()).delete();
    }
  }

  /** The job's pods, fresh from the API server, that this incarnation of the job owns. */
  private List<Pod> listPods(InferenceJob job) {
    String uid = job.getMetadata().getUid();
    return client
        .pods()
        .inNamespace(job.getMetadata().getNamespace())
        .withLabel(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName())
        .withLabel(GpupoolApi.JOB_KIND_LABEL, KIND)
        .list()
        .getItems()
        .stream()
        .filter(
            p ->
                uid == null
                    || p.getMetadata().getOwnerReferences().stream()
                        .anyMatch(o -> uid.equals(o.getUid())))
        .collect(Collectors.toCollection(ArrayList::new));
  }

  private static List<Pod> without(List<Pod> pods, ReplicaGroup g) {
    List<Pod> out = new ArrayList<>(pods);
    out.removeAll(g.pods());
    return out;
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

  private static int intAnnotation(Pod p, String key, int otherwise) {
    var a = p.getMetadata().getAnnotations();
    try {
      return a == null || a.get(key) == null ? otherwise : Integer.parseInt(a.get(key));
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }

  @Override
  public DeleteControl cleanup(InferenceJob job, Context<InferenceJob> context) {
    String ns = job.getMetadata().getNamespace();
    client
        .pods()
        .inNamespace(ns)
        .withLabel(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName())
        .withLabel(GpupoolApi.JOB_KIND_LABEL, KIND)
        .delete();
    client
        .services()
        .inNamespace(ns)
        .withLabel(GpupoolApi.JOB_NAME_LABEL, job.getMetadata().getName())
        .withLabel(GpupoolApi.JOB_KIND_LABEL, KIND)
        .delete();
    planner.release(job);
    metrics.phase(KIND, ns, job.getMetadata().getName(), null);
    scaleMetrics.forget(ns, job.getMetadata().getName());
    ownWrites.forget(job);
    memory.remove(job.getMetadata().getUid());
    LOG.infof("%s deleted: pods removed, GPUs released", ref(job));
    return DeleteControl.defaultDelete();
  }

  static String describe(List<ShardAssignment> shards) {
    return shards.size()
        + " shard(s) on "
        + shards.stream()
            .map(
                sh ->
                    sh.node()
                        + "("
                        + (sh.gpuMilli() < 1000
                            ? sh.gpuMilli() + "m of 1"
                            : Integer.toString(sh.gpus()))
                        + "x"
                        + sh.gpuProduct()
                        + (sh.groupSize() > 1
                            ? ", layers " + sh.firstLayer() + "-" + sh.lastLayer()
                            : "")
                        + ")")
            .collect(Collectors.joining(", "));
  }

  static String ref(InferenceJob job) {
    return "InferenceJob("
        + job.getMetadata().getNamespace()
        + "/"
        + job.getMetadata().getName()
        + ")";
  }

  /** A replica group could not be created whole; the SDK retries the reconcile. */
  static final class GroupCreationException extends RuntimeException {
    GroupCreationException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
