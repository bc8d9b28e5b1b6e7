package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.Admission;
import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.CycleResult;
import io.gpupool.scheduler.queue.Preemption;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * What follows a decision round of the {@link AdmissionController}: the evicted get their notice,
 * the admitted their wait measured, and both are woken; the jobs that still wait learn their new
 * places and whether they can ever be admitted; the queues' figures are published. The round
 * decides (the {@link AdmissionBook}); this class tells. Called under the controller's lock.
 */
final class RoundEffects {
  private static final Logger LOG = Logger.getLogger(RoundEffects.class);

  /** The controller's own parts, shared: this class keeps no state of its own. */
  record Parts(
      AdmissionBook book,
      WaitingJobs waiting,
      InadmissibleJobs inadmissible,
      EvictionNotices notices,
      OldestPending oldest,
      AdmissionWakes wakes,
      QueueMetrics metrics) {}

  private final Parts parts;

  RoundEffects(Parts parts) {
    this.parts = parts;
  }

  /**
   * Acts on the round that ended at {@code now} with {@code result}.
   *
   * @param queuesChanged a queue was added, changed or removed since the last round: every job set
   *     aside as never admissible is judged again
   * @param backoffEnded what runs a round when a waiting job's borrowing backoff ends
   * @param queues the queues whose figures may have moved
   */
  void apply(
      CycleResult result,
      Instant now,
      boolean queuesChanged,
      Runnable backoffEnded,
      Set<String> queues) {
    AdmissionBook book = parts.book();
    AdmissionWakes wakes = parts.wakes();
    QueueMetrics metrics = parts.metrics();
    OldestPending oldest = parts.oldest();
    parts.waiting().afterRound(result, book, now.toEpochMilli(), wakes::wake);
    parts.waiting().scheduleBackoffEnd(now.toEpochMilli(), wakes.later(), backoffEnded);
    parts.inadmissible().update(result, queuesChanged, book);
    for (Preemption p : result.preempted()) {
      int grace = parts.notices().preempted(p, now);
      metrics.preempted(p.victimQueue(), p.reason());
      LOG.infof(
          "%s evicted for %s (%s); pods removed in %ds",
          p.victimId(), p.preemptorId(), p.reason(), grace);
      wakes.wake(p.victimId());
    }
    for (Admission a : result.admitted()) {
      Instant since = oldest.admitted(a.workloadId());
      metrics.admitted(a.queue(), since == null ? Duration.ZERO : Duration.between(since, now));
      wakes.wake(a.workloadId());
    }
    wakes.positionsAfterRound(book, parts.inadmissible()::contains);
    metrics.usage(book.usage());
    oldest.afterRound(book, now, wakes.later());
    queues.forEach(wakes::queueChanged);
  }
}
