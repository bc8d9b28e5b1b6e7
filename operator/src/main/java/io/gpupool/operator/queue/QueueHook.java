package io.gpupool.operator.queue;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.billing.CostCap;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.workload.Workloads;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The TrainingJob loop's calls into admission, one per moment: before placing ({@link #admit}),
 * while holding GPUs ({@link #evicting}: restore the quota after a restart, carry out an eviction),
 * and when the job lets its GPUs go for good ({@link #released}, {@link #forget}).
 */
public final class QueueHook {
  private final AdmissionController admission;
  private final Consumer<TrainingJob> removePods;
  private final Workloads workloads;
  private final Function<TrainingJob, Collection<Pod>> pods;
  private final EventRecorder events;

  public QueueHook(
      AdmissionController admission,
      Consumer<TrainingJob> removePods,
      Workloads workloads,
      Function<TrainingJob, Collection<Pod>> pods,
      EventRecorder events) {
    this.admission = admission;
    this.removePods = removePods;
    this.workloads = workloads;
    this.pods = pods;
    this.events = events;
  }

  private static QueueGate.ConditionSink sink(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    return s::condition;
  }

  /**
   * For a job about to be placed: the job the planner should see (its products narrowed to the
   * admitted flavor), or null when it must wait (status says why; the phase stays Pending).
   */
  public TrainingJob admit(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    Verdict verdict = admission.decide(s.job);
    if (verdict instanceof Verdict.Evicted e) {
      // Evicted while it holds no GPUs (admitted, not placed yet): there are no pods to give
      // notice to or to wait for, so the eviction is complete now. Waiting for a deadline that
      // only a job holding GPUs looks at would leave its preemptor waiting for ever.
      QueueGate.evictionDone(s.status, e.queue());
      String message =
          "preempted for " + e.preemptor() + " before it was placed: back in GpuQueue " + e.queue();
      s.condition(QueueGate.ADMITTED, false, "Preempted", message);
      events.record(s.job, EventRecorder.WARNING, "Preempted", message);
      admission.evictionDone(s.job);
      verdict = admission.decide(s.job);
    }
    if (!QueueGate.mayPlace(s.status, verdict, sink(s))) {
      s.status.phase = TrainingJobPhase.Pending;
      admission.borrowingBackoff(s.job).ifPresent(left -> s.recheckIn(left.plusMillis(100)));
      return null;
    }
    return QueueGate.restricted(s.job, verdict);
  }

  /**
   * The admitted job could not be placed now (no room, no funds, over its cost cap). It keeps its
   * quota for the placement timeout, looked at again when that runs out; then it gives the quota
   * back and waits at the back of its queue, so that the jobs behind it get their turn.
   */
  public void unplaced(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    Optional<Duration> left = admission.unplaced(s.job);
    if (left.isPresent()) {
      s.recheckIn(left.get().plusMillis(100));
      return;
    }
    if (s.status.queue == null || s.status.queue.flavor == null) {
      return; // it held no quota
    }
    String queue = s.status.queue.name;
    s.status.queue.flavor = null;
    // Its place at the back, for a restarted operator (AdmissionRebuild).
    s.status.queue.queuedSince =
        admission.queuedSince(JobWorkloads.id(s.job)).map(Object::toString).orElse(null);
    String message =
        "not placed within "
            + admission.placementTimeout().toSeconds()
            + "s of its admission: quota given back, at the back of GpuQueue "
            + queue;
    if (s.condition(QueueGate.ADMITTED, false, "Queued", message)) {
      events.record(s.job, EventRecorder.WARNING, "QuotaReleased", message);
    }
  }

  /** The checkpoint a gang placed after a preemption resumes from; null otherwise. */
  public String resumeFrom(TrainingJobStatus status) {
    return status.queue != null && status.queue.preemptions != null ? status.resumeFrom : null;
  }

  /**
   * For a job holding GPUs: counts its quota (again, after a restart) and carries out an eviction.
   * Before the deadline its pods get the notice and the job keeps running; at the deadline its pods
   * are removed and it goes back to its queue. True when that has just happened.
   */
  public boolean evicting(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    TrainingJobStatus st = s.status;
    Verdict verdict = admission.holding(s.job, st.queue == null ? null : st.queue.flavor);
    if (verdict instanceof Verdict.Requeued) {
      // This copy predates the eviction's status write: nothing in it may be written back (its
      // older preemption count and resume point would undo that write). Look again once the
      // cache has caught up.
      s.recheckIn(Duration.ofMillis(500));
      return true;
    }
    if (!(verdict instanceof Verdict.Evicted e)) {
      if (verdict instanceof Verdict.Admitted) {
        QueueGate.mayPlace(st, verdict, sink(s));
        lastCheckpoint(s).ifPresent(at -> admission.checkpointed(s.job, at));
      }
      return false;
    }
    TrainingJob job = s.job;
    if (s.now.isBefore(e.deadline())) {
      String message =
          "preempted for "
              + e.preemptor()
              + " (GpuQueue "
              + e.queue()
              + "): write a checkpoint, the pods are removed at "
              + Conditions.timestamp(e.deadline());
      if (s.condition(QueueGate.ADMITTED, false, "Preempted", message)) {
        events.record(job, EventRecorder.WARNING, "Preempted", message);
      }
      String notice = Conditions.timestamp(e.deadline());
      QueueGate.noticeGiven(st, e.queue(), e.preemptor(), notice);
      for (Pod pod : pods.apply(job)) {
        var annotations = pod.getMetadata().getAnnotations();
        if (annotations == null || !notice.equals(annotations.get(PreemptNotice.ANNOTATION))) {
          workloads.annotate(pod, PreemptNotice.ANNOTATION, notice);
        }
      }
      s.recheckIn(Duration.between(s.now, e.deadline()).plusMillis(100));
      return false;
    }
    removePods.accept(job);
    st.placements = null;
    st.phase = TrainingJobPhase.Pending;
    if (job.getSpec().checkpoint != null) {
      st.resumeFrom = job.getSpec().checkpoint.uri;
    }
    QueueGate.evictionDone(st, e.queue());
    String message =
        "preempted for " + e.preemptor() + ": pods removed, back in GpuQueue " + e.queue();
    s.condition(JobConditions.RUNNING, false, "Preempted", message);
    s.condition(QueueGate.ADMITTED, false, "Preempted", message);
    events.record(job, EventRecorder.WARNING, "Preempted", message);
    admission.evictionDone(job);
    return true;
  }

  /**
   * Where the job's last checkpoint should be: it is asked to write one every interval from its
   * start (the operator does not see them being written).
   */
  private static Optional<Instant> lastCheckpoint(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
    var checkpoint = s.job.getSpec().checkpoint;
    if (checkpoint == null || s.status.startTime == null) {
      return Optional.empty();
    }
    long interval = checkpoint.intervalSeconds == null ? 600 : checkpoint.intervalSeconds;
    Instant start = Instant.parse(s.status.startTime);
    long elapsed = Math.max(0, Duration.between(start, s.now).getSeconds());
    return Optional.of(start.plusSeconds(elapsed / interval * interval));
  }

  /**
   * The loop freed the job's GPUs; when it finished, was suspended or stopped at its cost cap its
   * quota is free too. A job at its cap waits for its spec to change (the cap raised), which offers
   * it to its queue again; holding its quota meanwhile would stall the jobs behind it.
   */
  public void released(TrainingJob job) {
    TrainingJobStatus st = job.getStatus();
    if (st != null
        && (st.phase == TrainingJobPhase.Succeeded
            || st.phase == TrainingJobPhase.Failed
            || st.phase == TrainingJobPhase.Suspended
            || atCostCap(st))) {
      admission.ended(job);
    }
  }

  private static boolean atCostCap(TrainingJobStatus st) {
    return st.conditions != null
        && st.conditions.stream()
            .anyMatch(
                c ->
                    JobConditions.FUNDED.equals(c.getType())
                        && "False".equals(c.getStatus())
                        && CostCap.REASON.equals(c.getReason()));
  }

  /** The job was deleted. */
  public void forget(TrainingJob job) {
    admission.ended(job);
  }
}
