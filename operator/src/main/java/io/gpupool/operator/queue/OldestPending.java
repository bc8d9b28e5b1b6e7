package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.AdmissionBook;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * Jobs' creation times while they wait, for the admission wait histogram and the oldest-waiting-job
 * gauge. Called under the {@link AdmissionController}'s lock; the delayed recomputation takes that
 * lock again through the task the controller gives it.
 */
final class OldestPending {
  /** How often the oldest-waiting-job gauge is recomputed at most (a pass over every job). */
  static final Duration OLDEST_REFRESH = Duration.ofSeconds(1);

  private final Map<String, Instant> created = new HashMap<>();
  private final QueueMetrics metrics;
  private final Runnable refreshDue;
  private Instant oldestAt;
  private boolean oldestScheduled;

  /** {@code refreshDue}: runs {@link #refresh} under the controller's lock. */
  OldestPending(QueueMetrics metrics, Runnable refreshDue) {
    this.metrics = metrics;
    this.refreshDue = refreshDue;
  }

  /** The job waits since its creation (kept from the first time it is seen). */
  void arrived(String id, Instant createdAt) {
    created.putIfAbsent(id, createdAt);
  }

  /** The job was admitted or is gone: when it was created, if it waited since; null otherwise. */
  Instant admitted(String id) {
    return created.remove(id);
  }

  void forget(String id) {
    created.remove(id);
  }

  /**
   * The oldest waiting job's creation per queue (jobs admitted once are not counted): a pass over
   * every waiting job, so at most once per {@link #OLDEST_REFRESH} (a gauge scraped every few
   * seconds) rather than at every round; a round that comes sooner leaves it to the timer.
   */
  void afterRound(AdmissionBook book, Instant now, Later later) {
    if (oldestAt != null && now.isBefore(oldestAt.plus(OLDEST_REFRESH))) {
      if (!oldestScheduled) {
        oldestScheduled = true;
        later.run(refreshDue, OLDEST_REFRESH);
      }
      return;
    }
    oldestAt = now;
    Map<String, Long> oldest = new HashMap<>();
    if (!created.isEmpty()) {
      book.positions(
          (id, queue, position) -> {
            Instant since = created.get(id);
            if (since != null) {
              oldest.merge(queue, since.getEpochSecond(), Math::min);
            }
          });
    }
    metrics.oldestPending(oldest);
  }

  /** The delayed recomputation is due. */
  void refresh(AdmissionBook book, Instant now, Later later) {
    oldestScheduled = false;
    oldestAt = null;
    afterRound(book, now, later);
  }
}
