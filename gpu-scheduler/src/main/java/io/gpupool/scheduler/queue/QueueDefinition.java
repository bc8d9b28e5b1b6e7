package io.gpupool.scheduler.queue;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A queue: ordered quotas per flavor (a workload takes the first flavor that fits, as in Kueue's
 * flavor order), an optional cohort it lends to and borrows from, a fair-share weight and its
 * queueing and preemption policies.
 */
public record QueueDefinition(
    String name,
    String cohort,
    double weight,
    QueueingStrategy strategy,
    List<Quota> quotas,
    WithinQueuePreemption withinQueue,
    CohortReclaim reclaim) {

  public QueueDefinition {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(strategy, "strategy");
    Objects.requireNonNull(withinQueue, "withinQueue");
    Objects.requireNonNull(reclaim, "reclaim");
    quotas = List.copyOf(quotas);
    if (!(weight > 0) || Double.isInfinite(weight)) {
      throw new IllegalArgumentException("queue " + name + ": weight must be a positive number");
    }
    Set<String> seen = new HashSet<>();
    for (Quota quota : quotas) {
      if (!seen.add(quota.flavor())) {
        throw new IllegalArgumentException(
            "queue " + name + ": flavor " + quota.flavor() + " listed twice");
      }
    }
  }

  /** A queue with best-effort FIFO, weight 1, lower-priority preemption and full reclaim. */
  public static QueueDefinition of(String name, String cohort, List<Quota> quotas) {
    return new QueueDefinition(
        name,
        cohort,
        1.0,
        QueueingStrategy.BEST_EFFORT_FIFO,
        quotas,
        WithinQueuePreemption.LOWER_PRIORITY,
        CohortReclaim.ANY);
  }

  public QueueDefinition withStrategy(QueueingStrategy s) {
    return new QueueDefinition(name, cohort, weight, s, quotas, withinQueue, reclaim);
  }

  public QueueDefinition withWeight(double w) {
    return new QueueDefinition(name, cohort, w, strategy, quotas, withinQueue, reclaim);
  }

  public QueueDefinition withPreemption(WithinQueuePreemption within, CohortReclaim r) {
    return new QueueDefinition(name, cohort, weight, strategy, quotas, within, r);
  }

  public Optional<Quota> quota(String flavor) {
    for (Quota quota : quotas) {
      if (quota.flavor().equals(flavor)) {
        return Optional.of(quota);
      }
    }
    return Optional.empty();
  }
}
