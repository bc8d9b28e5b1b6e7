package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.QueuePosition;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.status.Conditions;
import io.gpupool.scheduler.queue.AdmissionBook;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
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
  private final PlacementTimeouts timeouts;
  private final Clock clock;

  AdmissionRebuild(
      AdmissionController admission,
      AdmissionBook book,
      EvictionNotices notices,
      PlacementTimeouts timeouts,
      Clock clock) {
    this.admission = admission;
    this.book = book;
    this.notices = notices;
    this.timeouts = timeouts;
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
      if (RestartState.of(job) != RestartState.NONE) {
        gaveQuotaBack(JobWorkloads.id(job), job.getStatus() == null ? null : job.getStatus().queue);
      }
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
      if (RestartState.of(job) != RestartState.NONE) {
        gaveQuotaBack(
            InferenceWorkloads.id(job), job.getStatus() == null ? null : job.getStatus().queue);
      }
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
   * A job that gave its quota back unplaced waits at the back of its priority level ({@code
   * status.queue.queuedSince}), not at its creation time: it is offered (or requeued) from there.
   */
  private void gaveQuotaBack(String id, QueuePosition queue) {
    if (queue == null || queue.queuedSince == null) {
      return;
    }
    try {
      timeouts.restore(id, Instant.parse(queue.queuedSince));
    } catch (DateTimeParseException e) {
      LOG.warnf("%s: unreadable status.queue.queuedSince %s", id, queue.queuedSince);
    }
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
    admission.restore(a, queue.get(), st == null ? null : st.flavor, clock.millis());
    return true;
  }

  /**
   * Its minimum, admitted when its {@code Admitted} condition turned True, and each replica above
   * it on the flavor its status names: as {@code status.queuedReplicas} lists them (admitted, or
   * waiting in the place they had), else (a status written before that list) each replica it serves
   * above the minimum.
   */
  private boolean restoreHolding(InferenceJob job) {
    Applicant min = InferenceWorkloads.minimum(job);
    Optional<String> queue = admission.queueOf(min);
    if (queue.isEmpty()) {
      return false;
    }
    var st = job.getStatus();
    String flavor = st.queue == null ? null : st.queue.flavor;
    admission.restore(min, queue.get(), flavor, admittedSince(st).orElse(clock.millis()));
    String admitted = book.admitted(min.id()).orElseThrow().flavor();
    Set<String> products = QueueLookup.products(book, queue.get(), admitted);
    if (st.queuedReplicas != null) {
      new StoredReplicas(admission, book, clock)
          .restore(job, st.queuedReplicas, queue.get(), admitted, products);
      return true;
    }
    int floor = InferenceWorkloads.floor(job.getSpec());
    for (int k = floor; k < st.replicas.size(); k++) {
      long now = clock.millis();
      admission.restore(
          InferenceWorkloads.replica(job, k, now, products), queue.get(), admitted, now);
    }
    return true;
  }

  /**
   * When the job's {@code Admitted} condition last turned True: its minimum has held its quota
   * since. Restored as admitted now, it would tie with its replicas (which lose no work) and be the
   * first victim of its level.
   */
  private static OptionalLong admittedSince(InferenceJobStatus st) {
    return Conditions.find(st.conditions, QueueGate.ADMITTED)
        .filter(c -> "True".equals(c.getStatus()) && c.getLastTransitionTime() != null)
        .flatMap(c -> StoredReplicas.instant(c.getLastTransitionTime()))
        .map(at -> OptionalLong.of(at.toEpochMilli()))
        .orElse(OptionalLong.empty());
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
