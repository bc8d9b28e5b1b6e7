package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.QueuedReplica;
import io.gpupool.scheduler.queue.AdmissionBook;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * After a restart: an InferenceJob's replicas above its minimum as its status lists them ({@code
 * status.queuedReplicas}). An admitted one holds its quota again; one that waited (a scale-up, or a
 * replica preempted just before the stop) waits again in the place it had, not at the job's first
 * reconcile; each keeps the evictions it had, which victim choice counts.
 */
final class StoredReplicas {
  private final AdmissionController admission;
  private final AdmissionBook book;
  private final Clock clock;

  StoredReplicas(AdmissionController admission, AdmissionBook book, Clock clock) {
    this.admission = admission;
    this.book = book;
    this.clock = clock;
  }

  /**
   * Restores {@code stored} in {@code queue}, on {@code flavor} ({@code products}) once admitted.
   */
  void restore(
      InferenceJob job,
      List<QueuedReplica> stored,
      String queue,
      String flavor,
      Set<String> products) {
    int floor = InferenceWorkloads.floor(job.getSpec());
    OptionalInt priority = admission.priorityOf(InferenceWorkloads.minimum(job));
    long now = clock.millis();
    for (QueuedReplica r : stored) {
      if (r.slot == null || r.slot < floor || r.slot >= InferenceWorkloads.MAX_REPLICAS) {
        continue;
      }
      long since = instant(r.queuedSince).map(Instant::toEpochMilli).orElse(now);
      Applicant replica = InferenceWorkloads.replica(job, r.slot, since, products);
      if (Boolean.TRUE.equals(r.admitted)) {
        admission.restore(replica, queue, flavor, now);
        // A replica loses no work: as in a running operator, it goes before its job's minimum.
        book.checkpointed(replica.id(), now);
      } else if (priority.isPresent()) {
        admission.offer(replica, queue, priority.getAsInt());
      }
      if (r.preemptions != null && r.preemptions > 0) {
        long lastAt = instant(r.preemptedAt).map(Instant::toEpochMilli).orElse(-1L);
        book.restoreEvictions(replica.id(), r.preemptions, lastAt);
      }
    }
  }

  /** An RFC 3339 time from status; empty when absent or unreadable. */
  static Optional<Instant> instant(String text) {
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(Instant.parse(text));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
