package io.gpupool.operator.job;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.JobSpec;
import io.gpupool.api.v1alpha1.JobStatus;
import io.gpupool.api.v1alpha1.Usage;
import io.gpupool.operator.billing.CostCap;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.status.OwnWriteChain;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.status.Written;
import io.gpupool.operator.validation.SpecProblems;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The reconcile loop both job kinds share: validate the spec, suspend and resume, stop a job at its
 * {@code spec.budget.maxCost}, hand the job to its kind to observe, decide and act, free its GPUs
 * when its phase says it holds none, refresh its usage, and record the phase (metric and event) and
 * the status (one write, only when it changed).
 *
 * <p>A kind says what is particular to it by implementing the abstract methods; everything here is
 * the same for a TrainingJob and an InferenceJob.
 *
 * @param <J> the job resource
 * @param <S> its status
 * @param <P> its phase
 */
public abstract class JobLoop<
    J extends CustomResource<? extends JobSpec, S>, S extends JobStatus<P>, P extends Enum<P>> {
  private static final Logger LOG = Logger.getLogger(JobLoop.class);

  /** Cost grows while a job runs: status.usage is refreshed at least this often. */
  public static final Duration USAGE_REFRESH = Duration.ofSeconds(30);

  private final Class<S> statusType;
  private final EventRecorder events;
  private final JobMetrics metrics;
  protected final Clock clock;
  private final OwnWriteChain<J> ownWrites;
  private final Metering metering;

  /**
   * Where a job's metered usage is read ({@code BillingService.usage} by the job's uid) and how
   * often it is metered: a job with a cost cap is looked at after each metering.
   */
  public record Metering(Function<String, Optional<Usage>> usage, Supplier<Duration> interval) {}

  /**
   * Writes a job's whole status (one request) and hands the stored job to the controller's cache
   * ({@code status/CachedStatus}); null when the job was deleted. The fake in tests records it.
   */
  public interface StatusWriter<J> {
    Written<J> write(J job);
  }

  /** What one reconcile came to: when to look again (null: on events only). */
  public record Outcome(Duration recheck) {}

  /**
   * A kind's phases as the loop needs them: waiting for capacity, suspended by its user, phases it
   * never leaves, phases worth a Warning event, and the condition that says it does its work now
   * (Running, Serving).
   */
  public record Phases<P>(
      P pending,
      P suspended,
      Predicate<P> finished,
      Predicate<P> warning,
      String activeCondition) {}

  private final Phases<P> phases;
  private final Supplier<S> newStatus;

  private P pending() {
    return phases.pending();
  }

  private P suspended() {
    return phases.suspended();
  }

  /** True for a phase the job never leaves (nothing to drive, nothing held). */
  protected boolean finished(P phase) {
    return phases.finished().test(phase);
  }

  private S newStatus() {
    return newStatus.get();
  }

  protected JobLoop(
      Class<S> statusType,
      Supplier<S> newStatus,
      Phases<P> phases,
      Metering metering,
      EventRecorder events,
      JobMetrics metrics,
      Clock clock) {
    this.statusType = statusType;
    this.metering = metering;
    this.newStatus = newStatus;
    this.phases = phases;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.ownWrites = new OwnWriteChain<>(StatusDiff::copy);
  }

  // ---- what each kind supplies ----

  /** The kind's name, as metrics, events and logs show it. */
  protected abstract String kind();

  protected abstract SpecProblems validate(J job);

  /**
   * Why this reconcile must not act now (a gang is being created): the wait until the next look, or
   * empty to go on. A present but null duration waits for events.
   */
  protected Optional<Wait> notNow(J job) {
    return Optional.empty();
  }

  /** A reconcile skipped: look again after {@code recheck} (null: on events only). */
  public record Wait(Duration recheck) {}

  /** Fills fields a new status needs beyond the phase (restart counters). */
  protected void initialise(S status) {}

  /** Removes the job's pods and clears what status says about them (on suspend, at its cap). */
  protected abstract void stopWorkload(JobStep<J, S, P> step);

  /** Observes the job's pods, decides and acts: one step of the kind's own state machine. */
  protected abstract void drive(JobStep<J, S, P> step);

  /**
   * True when status says the job holds no GPUs (finished, suspended, waiting with nothing placed);
   * the loop then frees whatever the ledger still holds for it.
   */
  protected abstract boolean holdsNothing(S status);

  /** Frees the job's GPUs in the allocation ledger. */
  protected abstract void release(J job);

  /** True while the job's usage moves without cluster events and status should follow it. */
  protected abstract boolean usageMoves(S status, boolean usageChanged);

  /** Metrics of the kind beyond the phase (replica counts). */
  protected void afterStep(JobStep<J, S, P> step) {}

  // ---- the loop ----

  /**
   * Runs one reconcile of {@code read} (as the controller's cache holds it), timed; writes status
   * with {@code writer} when it changed. The reconcile starts from our own last write when the
   * cache has not caught up with it yet.
   */
  public Outcome reconcile(J read, StatusWriter<J> writer) {
    boolean[] owed = new boolean[1];
    J job = ownWrites.newest(read, o -> owed[0] = o);
    Result result = metrics.reconcile(controller(), () -> decide(job, owed[0]));
    // Written here, outside the timed decision, as JOSDK's own status patch was.
    if (result.write()) {
      Written<J> written;
      try {
        written = writer.write(job);
      } catch (RuntimeException e) {
        // Whatever this decision started (pods created, GPUs reserved) has happened: the retry
        // starts from it and must still send it.
        ownWrites.owe(job);
        throw e;
      }
      if (written != null) {
        ownWrites.wrote(written);
      }
    }
    return new Outcome(result.recheck());
  }

  private record Result(Duration recheck, boolean write) {}

  private String controller() {
    return kind().toLowerCase(Locale.ROOT);
  }

  private Result decide(J job, boolean owed) {
    Optional<Wait> wait = notNow(job);
    if (wait.isPresent()) {
      return new Result(wait.get().recheck(), false);
    }
    S before = StatusDiff.copy(job.getStatus(), statusType);
    S status = job.getStatus() == null ? newStatus() : job.getStatus();
    job.setStatus(status);
    initialise(status);
    JobStep<J, S, P> step =
        new JobStep<>(job, status, status.phase, status.conditions, clock.instant());
    Optional<Usage> metered = metering.usage().apply(job.getMetadata().getUid());
    if (!finished(status.phase) && valid(step) && running(step) && underCap(step, metered)) {
      drive(step);
    }
    // The one place GPUs are freed on a phase change: finished, suspended, or back to waiting.
    if (holdsNothing(status)) {
      release(job);
    }
    refreshUsage(step, metered);
    status.observedGeneration = step.generation;
    afterStep(step);
    P phase = status.phase;
    metrics.phase(
        kind(), job.getMetadata().getNamespace(), job.getMetadata().getName(), phase(phase));
    if (step.previousPhase != phase) {
      events.record(
          job,
          phases.warning().test(phase) ? EventRecorder.WARNING : EventRecorder.NORMAL,
          phase(phase),
          kind() + " is " + phase);
    }
    boolean changed = owed || before == null || StatusDiff.changed(before, status);
    return new Result(step.recheck(), changed);
  }

  /** Shows the metered usage in status and says when to look at it again. */
  private void refreshUsage(JobStep<J, S, P> step, Optional<Usage> metered) {
    S status = step.status;
    String usageBefore = usageFigures(status);
    metered.ifPresent(u -> status.usage = u);
    if (usageMoves(status, !Objects.equals(usageBefore, usageFigures(status)))) {
      step.recheckIn(USAGE_REFRESH);
    }
    if (watchesCost(step.job)) {
      // Nothing in the cluster changes when metered cost crosses the cap: look again after each
      // metering (the controllers are also woken by it), or the job runs and is billed past its
      // maxCost until the slow usage refresh.
      step.recheckIn(metering.interval().get());
    }
  }

  /**
   * True when the job has a {@code spec.budget.maxCost} and holds GPUs: each metering may take it
   * to its cap, so the controllers wake it after each one.
   */
  public boolean watchesCost(J job) {
    Budget budget = job.getSpec() == null ? null : job.getSpec().budgetOrNull();
    S status = job.getStatus();
    return budget != null
        && budget.maxCost != null
        && status != null
        && !finished(status.phase)
        && !holdsNothing(status);
  }

  /**
   * {@code spec.budget.maxCost}: a job whose metered cost reached it has its pods removed (what was
   * metered is kept) and waits, Pending, until the cap is raised (a spec change reconciles it
   * again); false then.
   */
  private boolean underCap(JobStep<J, S, P> step, Optional<Usage> metered) {
    Optional<String> capped =
        CostCap.reached(step.job.getSpec().budgetOrNull(), metered.orElse(null));
    if (capped.isEmpty()) {
      return true;
    }
    String message = capped.get();
    if (!holdsNothing(step.status)) {
      stopWorkload(step);
      events.record(step.job, EventRecorder.WARNING, "Suspended", "pods removed: " + message);
      LOG.infof("%s stopped at its cap: %s", step.ref(), message);
    }
    step.status.phase = pending();
    step.condition(phases.activeCondition(), false, CostCap.REASON, "suspended: " + message);
    if (step.condition(JobConditions.FUNDED, false, CostCap.REASON, message)) {
      events.record(step.job, EventRecorder.WARNING, CostCap.REASON, message);
    }
    return false;
  }

  private static String phase(Enum<?> phase) {
    return String.valueOf(phase);
  }

  private String usageFigures(S status) {
    Usage u = status.usage;
    return u == null ? null : u.gpuSeconds + "/" + u.settled;
  }

  /** SpecValid: a spec the schema let through but the operator cannot run stays Pending. */
  private boolean valid(JobStep<J, S, P> step) {
    SpecProblems problems = validate(step.job);
    if (problems.isEmpty()) {
      step.condition(JobConditions.SPEC_VALID, true, "Valid", "spec accepted");
      return true;
    }
    if (step.status.phase == null) {
      step.status.phase = pending();
    }
    if (step.condition(JobConditions.SPEC_VALID, false, "InvalidSpec", problems.summary())) {
      events.record(step.job, EventRecorder.WARNING, "InvalidSpec", problems.summary());
      LOG.infof("%s refused: %s", step.ref(), problems.summary());
    }
    return false;
  }

  /** Suspends and resumes; false while the job is suspended. */
  private boolean running(JobStep<J, S, P> step) {
    S status = step.status;
    if (step.job.getSpec().suspendRequested()) {
      if (status.phase != suspended()) {
        stopWorkload(step);
        status.phase = suspended();
        step.condition(
            JobConditions.SUSPENDED,
            true,
            "Suspended",
            "spec.suspend is true: pods removed, GPUs released, usage stopped");
        step.condition(phases.activeCondition(), false, "Suspended", "suspended");
        events.record(
            step.job,
            EventRecorder.NORMAL,
            "Suspended",
            "pods removed, GPUs released; resuming places the job again");
      }
      return false;
    }
    if (status.phase == suspended()) {
      step.remove(JobConditions.SUSPENDED);
      status.phase = pending();
      events.record(step.job, EventRecorder.NORMAL, "Resumed", "spec.suspend is false: placing");
    }
    if (status.phase == null) {
      status.phase = pending();
    }
    return true;
  }

  /** A deleted job (its pods already deleted): frees its GPUs and forgets it. */
  public void releaseDeleted(J job) {
    release(job);
    ownWrites.forget(job);
    metrics.phase(kind(), job.getMetadata().getNamespace(), job.getMetadata().getName(), null);
    forget(job);
  }

  /** Forgets what the kind remembers of a deleted job. */
  protected void forget(J job) {}

  /** {@code Kind(ns/name)}, as log lines name a job. */
  public static String ref(HasMetadata job) {
    return job.getKind()
        + "("
        + job.getMetadata().getNamespace()
        + "/"
        + job.getMetadata().getName()
        + ")";
  }
}
