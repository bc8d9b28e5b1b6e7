package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.billing.Admission;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.job.JobCluster;
import io.gpupool.operator.job.JobLoop;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.QueueHook;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.validation.SpecProblems;
import io.gpupool.operator.validation.TrainingJobValidator;
import io.gpupool.operator.verification.SpotCheckRunner;
import io.gpupool.operator.workload.GroupBinder;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.operator.workload.Workloads;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * The TrainingJob kind in the shared {@link JobLoop}: its status fields, and its step — place the
 * whole gang (budget gate first), then follow it through {@link GangFollower}. Pods come from the
 * controller's informer, writes go through {@link Workloads} and the {@link GroupBinder}.
 */
final class TrainingLoop extends JobLoop<TrainingJob, TrainingJobStatus, TrainingJobPhase> {
  private static final Logger LOG = Logger.getLogger(TrainingLoop.class);
  static final String KIND = "TrainingJob";

  static final Duration FUNDS_RECHECK = Duration.ofSeconds(60);

  private final TrainingPlanner planner;
  private final BillingService billing;
  private final GroupBinder binder;
  private final JobMetrics metrics;
  private final EventRecorder events;
  private final Gangs gangs;
  private final GangFollower follower;
  private final QueueHook queues;
  private final SpotCheckRunner spotChecks;

  /** What the loop reads of a job's pods (the controller's pod event source). */
  record PodReads(Function<TrainingJob, Collection<Pod>> of) {}

  /** What decides for a job: the planner, its queue's admission and billing's funding gate. */
  record Deciders(TrainingPlanner planner, AdmissionController admission, BillingService billing) {}

  /**
   * What acts besides the {@link Workloads} port: the binding that creates gangs off the reconcile
   * thread (and wakes the job after), and the spot checks of the trust layer (null: none).
   */
  record Actors(JobBinding<TrainingJob> binding, SpotCheckRunner spotChecks) {}

  /**
   * Grouped as the controller reads them, observe → decide → act: the cluster (pod and Service
   * writes, events, job metrics), the health of a gang's nodes and the job's pods, what decides,
   * what acts.
   */
  TrainingLoop(
      JobCluster cluster,
      GangHealth health,
      PodReads pods,
      Deciders deciders,
      Actors actors,
      Clock clock) {
    super(
        TrainingJobStatus.class,
        TrainingJobStatus::new,
        new Phases<>(
            TrainingJobPhase.Pending,
            TrainingJobPhase.Suspended,
            p -> p == TrainingJobPhase.Succeeded || p == TrainingJobPhase.Failed,
            p -> p == TrainingJobPhase.Failed,
            JobConditions.RUNNING),
        new Metering(deciders.billing()::usage, deciders.billing()::meteringInterval),
        cluster.events(),
        cluster.metrics(),
        clock);
    BillingService billing = deciders.billing();
    this.planner = deciders.planner();
    this.billing = billing;
    this.binder = actors.binding().binder();
    this.metrics = cluster.metrics();
    this.events = cluster.events();
    this.gangs =
        new Gangs(actors.binding(), cluster.workloads(), pods.of(), billing::beforeDeleting);
    this.follower = new GangFollower(health, planner, billing, gangs, events, metrics);
    this.spotChecks = actors.spotChecks();
    this.queues =
        new QueueHook(
            deciders.admission(), gangs::remove, cluster.workloads(), pods.of()::apply, events);
  }

  @Override
  protected String kind() {
    return KIND;
  }

  @Override
  protected SpecProblems validate(TrainingJob job) {
    return TrainingJobValidator.validate(job);
  }

  @Override
  protected void initialise(TrainingJobStatus status) {
    if (status.restarts == null) {
      status.restarts = 0;
    }
  }

  @Override
  protected boolean holdsNothing(TrainingJobStatus status) {
    return finished(status.phase)
        || status.phase == TrainingJobPhase.Suspended
        || status.placements == null
        || status.placements.isEmpty();
  }

  @Override
  protected void release(TrainingJob job) {
    planner.release(job);
    if (spotChecks != null) {
      spotChecks.release(job);
    }
    queues.released(job);
  }

  @Override
  protected void stopWorkload(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    gangs.remove(s.job);
    s.status.placements = null;
  }

  @Override
  protected boolean usageMoves(TrainingJobStatus status, boolean usageChanged) {
    if (status.phase == TrainingJobPhase.Running || status.phase == TrainingJobPhase.Scheduled) {
      return true; // cost grows while the gang runs
    }
    // Settlement moves money without a cluster event: keep looking until status shows it.
    return finished(status.phase)
        && (usageChanged
            || (recentlyEnded(status)
                && (status.usage == null
                    || (billing.enabled() && !status.usage.cost.equals(status.usage.settled)))));
  }

  @Override
  protected Optional<Wait> notNow(TrainingJob job) {
    if (binder.busy(job.getMetadata().getUid())) {
      // Its gang is being created right now; the binder wakes the job when that has ended.
      return Optional.of(new Wait(null));
    }
    return Optional.empty();
  }

  @Override
  protected void drive(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    TrainingJob job = s.job;
    TrainingJobStatus status = s.status;
    Long deadline = job.getSpec().activeDeadlineSeconds;
    if (ActiveDeadline.exceeded(deadline, status.startTime, s.now)) {
      follower.fail(
          s, "DeadlineExceeded", "ran longer than activeDeadlineSeconds (" + deadline + "s)");
      return;
    }
    Optional<String> gangFailed = binder.takeFailure(job.getMetadata().getUid());
    if (gangFailed.isPresent()) {
      // The binder already deleted the pods it had created; the loop frees the GPUs.
      status.placements = null;
      status.phase = TrainingJobPhase.Pending;
      s.condition(JobConditions.SCHEDULED, false, "GangCreationFailed", gangFailed.get());
      events.record(job, EventRecorder.WARNING, "GangCreationFailed", gangFailed.get());
    }
    List<RankAssignment> ranks = Placements.fromStatus(status.placements);
    if (ranks.isEmpty()) {
      Optional<Duration> holdOff = binder.holdOff(job.getMetadata().getUid(), s.now);
      if (holdOff.isPresent()) {
        s.recheckIn(holdOff.get().plusMillis(100));
        return;
      }
      place(s);
      return;
    }
    if (queues.evicting(s)) {
      return; // preempted: its pods are gone and it waits in its queue again
    }
    if (planner.cover(job, ranks)) {
      // The ledger lost GPUs the gang sits on (rebuilt by a new leader from what it saw): held
      // again before a restart puts pods on them.
      LOG.warnf("%s: GPUs of its placement reserved again", JobLoop.ref(job));
    }
    if (spotChecks != null && SpotCheckRunner.wanted(job)) {
      Optional<SpotCheckRunner.Cheat> cheat =
          spotChecks.step(s, trainers(ranks), Optional.ofNullable(gangs.current(job).get(0)));
      if (cheat.isPresent()) {
        follower.rewind(s, ranks, cheat.get());
        return;
      }
    }
    follower.follow(s, ranks);
    Optional<Instant> timeUp = ActiveDeadline.at(deadline, status.startTime);
    if (timeUp.isPresent() && !finished(status.phase)) {
      s.recheckIn(Duration.between(s.now, timeUp.get()).plusSeconds(1));
    }
  }

  private void place(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    TrainingJob job = s.job;
    if (!planner.ready()) {
      s.condition(JobConditions.SCHEDULED, false, "Queued", "waiting for the pool to be read");
      s.recheckIn(Duration.ofSeconds(1));
      return;
    }
    TrainingJob admitted = queues.admit(s);
    if (admitted == null) {
      return; // waiting in its GpuQueue
    }
    gangs.remove(job); // stale pods of an earlier gang never coexist with a new one
    TrainingPlanner.Placement placement = planner.place(admitted);
    if (placement instanceof TrainingPlanner.Unplaceable u) {
      s.status.phase = TrainingJobPhase.Pending;
      if (s.condition(JobConditions.SCHEDULED, false, "Unschedulable", u.reason())) {
        events.record(job, EventRecorder.WARNING, "Unschedulable", u.reason());
      }
      s.recheckIn(u.lookAgainIn());
      queues.unplaced(s);
      return;
    }
    TrainingPlanner.Placed placed = (TrainingPlanner.Placed) placement;
    Admission admission = billing.admit(job, weiPerHour(placed.ranks()));
    if (!admission.mayRun()) {
      // status shows no placement: the loop frees what the planner reserved
      s.status.phase = TrainingJobPhase.Pending;
      if (s.condition(JobConditions.FUNDED, false, admission.reason(), admission.message())) {
        events.record(job, EventRecorder.WARNING, admission.reason(), admission.message());
      }
      // Deposits happen on chain, not in the cluster: look again after a while.
      s.recheckIn(FUNDS_RECHECK);
      queues.unplaced(s);
      return;
    }
    s.condition(JobConditions.FUNDED, true, admission.reason(), admission.message());
    gangs.start(s, placed.ranks(), queues.resumeFrom(s.status));
    if (s.status.verification != null) {
      s.status.verification.rewindTo = null; // the new generation carries it
    }
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
  }

  private static List<SpotCheckRunner.Trainer> trainers(List<RankAssignment> ranks) {
    return ranks.stream()
        .map(r -> new SpotCheckRunner.Trainer(r.rank(), r.node(), r.provider(), r.gpuProduct()))
        .toList();
  }

  /** Pods that just ended are metered shortly after; keep looking for their usage a while. */
  private boolean recentlyEnded(TrainingJobStatus status) {
    return status.completionTime != null
        && Instant.parse(status.completionTime)
            .plus(Duration.ofMinutes(5))
            .isAfter(clock.instant());
  }

  /** What the gang costs per hour at its providers' prices, in wei. */
  private BigInteger weiPerHour(List<RankAssignment> ranks) {
    BigInteger total = BigInteger.ZERO;
    for (RankAssignment r : ranks) {
      total =
          total.add(
              billing
                  .weiPerHour(r.provider(), r.gpuProduct(), 1000L * r.gpus())
                  .orElse(BigInteger.ZERO));
    }
    return total;
  }

  @Override
  protected void forget(TrainingJob job) {
    planner.forget(job);
    queues.forget(job);
  }

  static String describe(List<RankAssignment> ranks) {
    return ranks.size()
        + " ranks on "
        + ranks.stream()
            .map(r -> r.node() + "(" + r.gpus() + "x" + r.gpuProduct() + ")")
            .distinct()
            .collect(Collectors.joining(", "));
  }
}
