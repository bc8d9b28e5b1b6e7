package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.QueuePosition;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.status.Conditions;
import io.gpupool.scheduler.queue.AdmissionBook;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Before the first decision of a process: every job that holds GPUs is counted against its queue
 * and every waiting job takes its place, all at once. Rebuilding job by job as each is reconciled
 * would let a round admit beyond quota (running jobs not yet counted) or admit a later job before
 * an earlier one not yet seen. Runs under the {@link AdmissionController}'s lock.
 */
final class AdmissionRebuild {
  private static final Logger LOG = Logger.getLogger(AdmissionRebuild.class);

  private final AdmissionController admission;
  private final AdmissionBook book;
  private final EvictionNotices notices;
  private final Clock clock;

  AdmissionRebuild(
      AdmissionController admission, AdmissionBook book, EvictionNotices notices, Clock clock) {
    this.admission = admission;
    this.book = book;
    this.notices = notices;
    this.clock = clock;
  }

  /** Fills the controller's book from what the cluster stores. */
  void rebuild(AdmissionSnapshot.State state) {
    for (GpuQueue q : state.queues()) {
      try {
        admission.knownQueue(q);
      } catch (IllegalArgumentException e) {
        // its reconciler reports it; the queue admits nothing meanwhile
      }
    }
    int holding = 0;
    int waitingJobs = 0;
    for (TrainingJob job : state.trainingJobs()) {
      boolean known =
          switch (RestartState.of(job)) {
            case HOLDING -> restoreHolding(job);
            case WAITING -> restoreWaiting(JobWorkloads.applicant(job));
            case NONE -> false;
          };
      if (known) {
        holding += RestartState.of(job) == RestartState.HOLDING ? 1 : 0;
        waitingJobs += RestartState.of(job) == RestartState.WAITING ? 1 : 0;
        restoreEvictions(job);
      }
    }
    for (InferenceJob job : state.inferenceJobs()) {
      switch (RestartState.of(job)) {
        case HOLDING -> holding += restoreHolding(job) ? 1 : 0;
        case WAITING -> waitingJobs += restoreWaiting(InferenceWorkloads.minimum(job)) ? 1 : 0;
        case NONE -> {}
      }
    }
    LOG.infof(
        "admission rebuilt: %d GpuQueues, %d jobs holding GPUs, %d waiting",
        state.queues().size(), holding, waitingJobs);
  }

  /**
   * The evictions its status counts ({@code status.queue.preemptions}, each written when its pods
   * were removed), the last at the time its {@code Admitted} condition turned {@code Preempted}
   * (the notice, when the book counted it): without them a job evicted twice before the restart
   * borrowed again at once and was the next reclaim's victim again.
   */
  private void restoreEvictions(TrainingJob job) {
    var queue = job.getStatus() == null ? null : job.getStatus().queue;
    if (queue == null) {
      return;
    }
    String id = JobWorkloads.id(job);
    boolean inFlight = restoreInFlight(id, queue);
    // The eviction in flight is counted when its pods are removed; the book counted it at once.
    int times = (queue.preemptions == null ? 0 : queue.preemptions) + (inFlight ? 1 : 0);
    if (times <= 0) {
      return;
    }
    long lastAt =
        Conditions.find(job.getStatus().conditions, QueueGate.ADMITTED)
            .filter(c -> "Preempted".equals(c.getReason()) && c.getLastTransitionTime() != null)
            .map(c -> Instant.parse(c.getLastTransitionTime()).toEpochMilli())
            .orElse(-1L);
    book.restoreEvictions(id, times, lastAt);
  }

  /**
   * An eviction under way when the operator stopped ({@code status.queue.evictedFor} and {@code
   * evictionDeadline}, written with the notice): the victim is marked again for the same preemptor
   * with the same deadline, so no round picks other victims for it or evicts this one twice, and
   * the preemptor gets the GPUs once the victim has left. True when one was restored.
   */
  private boolean restoreInFlight(String id, QueuePosition queue) {
    if (queue.evictedFor == null || queue.evictionDeadline == null) {
      return false;
    }
    Instant deadline;
    try {
      deadline = Instant.parse(queue.evictionDeadline);
    } catch (DateTimeParseException e) {
      LOG.warnf("%s: unreadable status.queue.evictionDeadline %s", id, queue.evictionDeadline);
      return false;
    }
    if (book.admitted(id).isEmpty()) {
      return false;
    }
    book.restoreEviction(id, queue.evictedFor);
    notices.restore(id, queue.evictedFor, deadline);
    return true;
  }

  private boolean restoreHolding(TrainingJob job) {
    Applicant a = JobWorkloads.applicant(job);
    Optional<String> queue = admission.queueOf(a);
    if (queue.isEmpty()) {
      return false;
    }
    var st = job.getStatus().queue;
    admission.restore(a, queue.get(), st == null ? null : st.flavor);
    return true;
  }

  /** Its minimum, and each replica it runs above it, on the flavor its status names. */
  private boolean restoreHolding(InferenceJob job) {
    Applicant min = InferenceWorkloads.minimum(job);
    Optional<String> queue = admission.queueOf(min);
    if (queue.isEmpty()) {
      return false;
    }
    var st = job.getStatus();
    String flavor = st.queue == null ? null : st.queue.flavor;
    admission.restore(min, queue.get(), flavor);
    String admitted = book.admitted(min.id()).orElseThrow().flavor();
    Set<String> products = QueueLookup.products(book, queue.get(), admitted);
    int floor = InferenceWorkloads.floor(job.getSpec());
    for (int k = floor; k < st.replicas.size(); k++) {
      admission.restore(
          InferenceWorkloads.replica(job, k, clock.millis(), products), queue.get(), admitted);
    }
    return true;
  }

  private boolean restoreWaiting(Applicant a) {
    Optional<String> queue = admission.queueOf(a);
    OptionalInt priority = admission.priorityOf(a);
    if (queue.isEmpty() || priority.isEmpty()) {
      return false; // its own reconcile reports it
    }
    admission.offer(a, queue.get(), priority.getAsInt());
    return true;
  }
}
