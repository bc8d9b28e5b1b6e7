package io.gpupool.operator.inference;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.QueuePosition;
import io.gpupool.operator.billing.CostCap;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.queue.InferenceAdmission;
import io.gpupool.operator.queue.InferenceWorkloads;
import io.gpupool.operator.queue.QueueGate;
import io.gpupool.operator.queue.Verdict;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import java.time.Duration;
import java.util.Optional;

/**
 * The InferenceJob loop's calls into its GpuQueue ({@link InferenceAdmission}), and what they mean
 * for status: {@code status.queue}, {@code status.admittedReplicas} and the {@code Admitted}
 * condition (reasons {@code Admitted}, {@code ScaleUpQueued}, {@code Queued}, {@code Preempted},
 * {@code Inadmissible}). A job whose scale-up its queue cannot admit keeps serving at the size it
 * has; only a job whose minimum is not admitted waits, Pending.
 */
final class QueuedReplicas {
  /** Reason of {@code Admitted=True} while replicas the autoscaler wants wait for quota. */
  static final String SCALE_UP_QUEUED = "ScaleUpQueued";

  private final InferenceAdmission admission;
  private final EventRecorder events;

  QueuedReplicas(InferenceAdmission admission, EventRecorder events) {
    this.admission = admission;
    this.events = events;
  }

  /** What to do this step. */
  sealed interface Outcome {}

  /** Run {@code count} replica groups (no more: the rest wait for quota). */
  record Run(int count, boolean queued) implements Outcome {}

  /** The minimum was preempted: every replica must go now, and the job waits in its queue. */
  record Evict(String preemptor, String queue) implements Outcome {}

  static int gpusPerReplica(InferenceJobSpec spec) {
    return InferenceWorkloads.gpusPerReplica(spec);
  }

  /**
   * Asks the queue how many of the {@code desired} replicas may run, and records the answer in
   * status.
   *
   * @param groups replica groups the job has (serving or draining): it holds GPUs
   * @param running those serving
   */
  Outcome allowed(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      int desired,
      int groups,
      int running) {
    InferenceJobStatus st = s.status;
    String flavor = st.queue == null ? null : st.queue.flavor;
    InferenceAdmission.Replicas r = admission.replicas(s.job, desired, groups > 0, running, flavor);
    Verdict v = r.minimum();
    if (v instanceof Verdict.NotQueued) {
      st.queue = null;
      st.admittedReplicas = null;
      st.queuedReplicas = ReplicaSlots.none(st.queuedReplicas);
      s.remove(QueueGate.ADMITTED);
      return new Run(desired, false);
    }
    if (v instanceof Verdict.Evicted e) {
      return new Evict(e.preemptor(), e.queue());
    }
    if (v instanceof Verdict.Requeued) {
      // A copy older than its eviction: the pods it shows are being removed.
      s.recheckIn(Duration.ofMillis(500));
      return new Run(0, true);
    }
    if (v instanceof Verdict.Admitted a) {
      admitted(s, a, r, desired);
      return new Run(r.allowed(), true);
    }
    st.admittedReplicas = 0;
    st.queuedReplicas = ReplicaSlots.none(st.queuedReplicas);
    if (v instanceof Verdict.Queued q) {
      QueuePosition p = position(st, q.queue());
      p.position = q.position() > 0 ? q.position() : null;
      p.flavor = null;
      p.priority = q.priority();
      boolean preempted = wasPreempted(st);
      s.condition(
          QueueGate.ADMITTED,
          false,
          preempted ? "Preempted" : "Queued",
          (preempted ? "preempted, back in its queue: " : "") + q.message());
    } else if (v instanceof Verdict.Inadmissible i) {
      QueuePosition p = position(st, i.queue());
      p.position = null;
      p.flavor = null;
      s.condition(QueueGate.ADMITTED, false, "Inadmissible", i.message());
    }
    return new Run(0, true);
  }

  private void admitted(
      JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s,
      Verdict.Admitted a,
      InferenceAdmission.Replicas r,
      int desired) {
    InferenceJobStatus st = s.status;
    QueuePosition p = position(st, a.queue());
    p.flavor = a.flavor();
    p.priority = a.priority();
    p.position = r.queued() > 0 && r.position() > 0 ? r.position() : null;
    st.admittedReplicas = r.allowed();
    st.queuedReplicas = ReplicaSlots.record(st.queuedReplicas, r.slots(), r.evictedFor(), s.now);
    if (!r.evicted().isEmpty()) {
      String message =
          r.evicted().size()
              + " replica(s) preempted for "
              + r.evictedFor()
              + " (GpuQueue "
              + a.queue()
              + "): drained, back in the queue";
      events.record(s.job, EventRecorder.WARNING, "Preempted", message);
      p.preemptions =
          p.preemptions == null ? r.evicted().size() : p.preemptions + r.evicted().size();
      admission.replicasEvicted(r.evicted());
    }
    if (r.queued() > 0) {
      String message =
          r.allowed()
              + " of "
              + desired
              + " replica(s) admitted by GpuQueue "
              + a.queue()
              + " on "
              + a.flavor()
              + " quota; "
              + r.queued()
              + " more wait in the queue"
              + (r.position() > 0 ? " (first at position " + r.position() + ")" : "");
      if (s.condition(QueueGate.ADMITTED, true, SCALE_UP_QUEUED, message)) {
        events.record(s.job, EventRecorder.NORMAL, SCALE_UP_QUEUED, message);
      }
      return;
    }
    s.condition(
        QueueGate.ADMITTED,
        true,
        "Admitted",
        r.allowed()
            + " replica(s) admitted by GpuQueue "
            + a.queue()
            + " on "
            + a.flavor()
            + " quota");
  }

  /** The minimum's eviction is done: the replicas were removed just now. */
  void evicted(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s, Evict e) {
    InferenceJobStatus st = s.status;
    QueuePosition p = position(st, e.queue());
    p.preemptions = p.preemptions == null ? 1 : p.preemptions + 1;
    p.flavor = null;
    st.admittedReplicas = 0;
    st.queuedReplicas = ReplicaSlots.none(st.queuedReplicas);
    st.phase = InferenceJobPhase.Pending;
    String message =
        "preempted for " + e.preemptor() + ": replicas removed, back in GpuQueue " + e.queue();
    s.condition(QueueGate.ADMITTED, false, "Preempted", message);
    s.condition(InferenceJobReconciler.SERVING, false, "Preempted", message);
    events.record(s.job, EventRecorder.WARNING, "Preempted", message);
    admission.minimumEvicted(s.job);
  }

  /**
   * Replicas admitted but not placed ({@code placed} groups run): they keep their quota for the
   * placement timeout, then give it back and wait at the back of the queue.
   */
  void unplaced(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s, int placed) {
    Optional<Duration> left = admission.unplaced(s.job, placed);
    if (left.isPresent()) {
      s.recheckIn(left.get().plusMillis(100));
      return;
    }
    if (placed > 0 && s.status.desiredReplicas != null) {
      // Replicas that gave their quota back wait again, at the back: so their status says.
      s.status.queuedReplicas =
          ReplicaSlots.record(
              s.status.queuedReplicas,
              admission.slots(s.job, s.status.desiredReplicas),
              null,
              s.now);
    }
    if (placed == 0 && s.status.queue != null && s.status.queue.flavor != null) {
      String queue = s.status.queue.name;
      s.status.queue.flavor = null;
      s.status.queue.queuedSince = admission.queuedSince(s.job).map(Object::toString).orElse(null);
      s.status.admittedReplicas = 0;
      s.status.queuedReplicas = ReplicaSlots.none(s.status.queuedReplicas);
      String message =
          "not placed within "
              + admission.placementTimeout().toSeconds()
              + "s of its admission: quota given back, at the back of GpuQueue "
              + queue;
      if (s.condition(QueueGate.ADMITTED, false, "Queued", message)) {
        events.record(s.job, EventRecorder.WARNING, "QuotaReleased", message);
      }
    }
  }

  /**
   * The loop freed the job's GPUs. Suspended or stopped at its cost cap: its quota is free too (it
   * waits for its spec to change, and holding the quota meanwhile would stall the jobs behind it).
   * One waiting for funds keeps it for the placement timeout, as an unplaced job does.
   */
  void released(InferenceJob job) {
    InferenceJobStatus st = job.getStatus();
    boolean atCap =
        st != null
            && Conditions.find(st.conditions, JobConditions.FUNDED)
                .filter(c -> "False".equals(c.getStatus()) && CostCap.REASON.equals(c.getReason()))
                .isPresent();
    if (st != null && (st.phase == InferenceJobPhase.Suspended || atCap)) {
      admission.ended(job);
    }
  }

  /** The job was deleted. */
  void forget(InferenceJob job) {
    admission.ended(job);
  }

  private static boolean wasPreempted(InferenceJobStatus st) {
    return Conditions.find(st.conditions, QueueGate.ADMITTED)
        .filter(c -> "False".equals(c.getStatus()) && "Preempted".equals(c.getReason()))
        .isPresent();
  }

  private static QueuePosition position(InferenceJobStatus st, String queue) {
    if (st.queue == null || !queue.equals(st.queue.name)) {
      QueuePosition q = new QueuePosition();
      q.name = queue;
      q.preemptions = st.queue == null ? null : st.queue.preemptions;
      st.queue = q;
    }
    return st.queue;
  }
}
