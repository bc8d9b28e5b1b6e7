package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.CycleResult;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The jobs the last round set aside or made heads of their queues, and why they wait; and when the
 * first borrowing backoff among them ends (a round is due then). Called under the {@link
 * AdmissionController}'s lock.
 */
final class WaitingJobs {
  private final Map<String, String> why = new HashMap<>();

  /** When the first borrowing backoff of a waiting workload ends: a round is due then. */
  private long nextBackoffEnd = Long.MAX_VALUE;

  /** When the round at a backoff's end is scheduled for; MAX_VALUE: none is. */
  private long scheduledFor = Long.MAX_VALUE;

  boolean isEmpty() {
    return why.isEmpty();
  }

  /** Why the job waits, as the last round said; the default for those it said nothing of. */
  String why(String id, String queue) {
    return why.getOrDefault(id, "waiting behind earlier jobs of GpuQueue " + queue);
  }

  /**
   * Takes a round's waiting jobs. A job set aside for the pool's node shapes is woken when that is
   * no longer why it waits.
   */
  void afterRound(CycleResult result, AdmissionBook book, long now, Consumer<String> wake) {
    why.forEach(
        (id, reason) -> {
          if (reason.startsWith(AdmissionBook.NO_NODE_SHAPE)
              && !reason.equals(result.waiting().get(id))) {
            wake.accept(id);
          }
        });
    why.clear();
    why.putAll(result.waiting());
    nextBackoffEnd = Long.MAX_VALUE;
    for (String id : result.waiting().keySet()) {
      long until = book.borrowingBarredUntil(id).orElse(0);
      if (until > now) {
        nextBackoffEnd = Math.min(nextBackoffEnd, until);
      }
    }
  }

  /**
   * Schedules a round for when the first backoff among the waiting jobs ends, unless one is due by
   * then already. Nothing else may happen in the pool meanwhile, and a waiting InferenceJob
   * replica, unlike a TrainingJob, has no reconcile of its own that looks again then: without it
   * the replica waited for the next round something else caused.
   */
  void scheduleBackoffEnd(long now, Later later, Runnable due) {
    if (nextBackoffEnd == Long.MAX_VALUE || scheduledFor <= nextBackoffEnd) {
      return;
    }
    scheduledFor = nextBackoffEnd;
    later.run(due, Duration.ofMillis(nextBackoffEnd - now + 1));
  }

  /** The scheduled round is running. */
  void backoffRoundRan() {
    scheduledFor = Long.MAX_VALUE;
  }

  /** True once when the first backoff among the waiting jobs has ended: a round is due. */
  boolean backoffEnded(long now) {
    if (now >= nextBackoffEnd) {
      nextBackoffEnd = Long.MAX_VALUE;
      return true;
    }
    return false;
  }
}
