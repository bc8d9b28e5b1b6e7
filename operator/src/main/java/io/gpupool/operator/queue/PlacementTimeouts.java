package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.AdmittedWorkload;
import io.gpupool.scheduler.queue.Workload;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * How long an admitted job may hold its quota without being placed (Kueue's waitForPodsReady): past
 * that it gives the quota back and goes to the back of its priority level in its queue, so that
 * jobs behind it get their turn; it is admitted again when its turn comes, with a fresh timeout.
 */
final class PlacementTimeouts {
  private static final Logger LOG = Logger.getLogger(PlacementTimeouts.class);

  /** How long an admitted job may hold its quota without being placed, unless configured. */
  static final Duration DEFAULT = Duration.ofMinutes(5);

  private final Duration timeout;

  /** Arrival of jobs that gave their quota back unplaced: the back of their queue, not creation. */
  private final Map<String, Long> requeuedAt = new HashMap<>();

  PlacementTimeouts(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "gpupool.queue.placement-timeout must be positive, got " + timeout);
    }
    this.timeout = timeout;
  }

  Duration timeout() {
    return timeout;
  }

  /** How much longer {@code held}, still unplaced at {@code now}, may keep its quota. */
  Duration left(AdmittedWorkload held, Instant now) {
    Instant since = Instant.ofEpochMilli(held.admittedAt());
    return timeout.minus(Duration.between(since, now));
  }

  /** Gives {@code held}'s quota back: it waits again, behind its priority level's others. */
  void giveBack(AdmissionBook book, AdmittedWorkload held, long now) {
    String id = held.workload().id();
    book.requeue(id);
    Workload back = held.workload().withArrival(now);
    book.offer(back);
    requeuedAt.put(id, now);
    LOG.infof(
        "%s not placed within %s of its admission: quota of GpuQueue %s given back",
        id, timeout, back.queue());
  }

  /** The workload as offered, at the back of its queue when it gave its quota back before. */
  Workload arrived(Workload w) {
    Long at = requeuedAt.get(w.id());
    return at == null ? w : w.withArrival(at);
  }

  /**
   * When {@code id} last gave its quota back: its place in its queue counts from then. Written to
   * the job's status, so that a restarted operator keeps the place ({@link #restore}).
   */
  Optional<Instant> queuedSince(String id) {
    Long at = requeuedAt.get(id);
    return at == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(at));
  }

  /** After a restart: {@code id} gave its quota back at {@code at}, as its status records. */
  void restore(String id, Instant at) {
    requeuedAt.put(id, at.toEpochMilli());
  }

  void forget(String id) {
    requeuedAt.remove(id);
  }
}
