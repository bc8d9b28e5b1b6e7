package io.gpupool.operator.pool;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * GPUs held for TrainingJobs that have waited too long outside any GpuQueue.
 *
 * <p>Without a queue, whoever is reconciled when a GPU frees up takes it: a gang that needs three
 * GPUs at once loses every time to one-GPU jobs that fit into the first GPU that frees, and can
 * wait as long as small jobs keep coming. So a job that has waited longer than {@code holdAfter}
 * gets a target: the GPUs its gang would take were the training jobs running now to end (they do;
 * the holdings of inference replicas and foreign pods, which need not, are kept). Every other
 * placement is planned as if those GPUs were taken, so as they free up they stay free for it; GPUs
 * outside every target are backfilled as before. This mirrors a GpuQueue's held head, without its
 * backfill by run time: jobs outside queues need not declare one, so held GPUs are lent to nobody.
 *
 * <p>Several jobs may be held for, in the order they have waited (oldest first): an older job's
 * target is planned first, and a job placing sees only the holds of jobs older than itself. A
 * target is kept while all its nodes are offered, so the GPUs held do not wander as jobs come and
 * go. Called under the allocation ledger's lock.
 */
final class StarvationGuard {
  /** The prefix of the holder keys under which held GPUs enter a snapshot. */
  static final String HELD_PREFIX = "held-for:";

  private final Duration holdAfter;
  private final Clock clock;
  private final Map<String, Waiting> waiting = new HashMap<>();

  /**
   * How long a job that could not be placed even on a pool without training jobs waits before its
   * target is planned again (planning is the costly part of placement, and a backlog of such jobs
   * would double it on every look).
   */
  static final Duration REPLAN_EMPTY = Duration.ofSeconds(30);

  /**
   * A job held for: since when it waits, the GPU slots held for it by node, and when they were
   * planned.
   */
  record Waiting(String holder, Instant since, Map<String, Integer> target, Instant planned) {}

  StarvationGuard(Duration holdAfter, Clock clock) {
    this.holdAfter = holdAfter;
    this.clock = clock;
  }

  /** Whether a job waiting since {@code since} has waited long enough to be held for. */
  synchronized boolean due(Instant since) {
    return !since.plus(holdAfter).isAfter(clock.instant());
  }

  /**
   * The target kept for {@code holder}: while every node of it passes {@code offered}; an empty one
   * (no room even then) for {@link #REPLAN_EMPTY}. Empty when it is to be planned (again).
   */
  synchronized Optional<Map<String, Integer>> target(String holder, Predicate<String> offered) {
    Waiting w = waiting.get(holder);
    if (w == null || !w.target().keySet().stream().allMatch(offered)) {
      return Optional.empty();
    }
    if (w.target().isEmpty() && !w.planned().plus(REPLAN_EMPTY).isAfter(clock.instant())) {
      return Optional.empty();
    }
    return Optional.of(w.target());
  }

  /**
   * Records that {@code holder}, waiting since {@code since}, holds {@code target} (empty: it could
   * not be placed even were every training job gone, so nothing is held for it).
   */
  synchronized void hold(String holder, Instant since, Map<String, Integer> target) {
    waiting.put(holder, new Waiting(holder, since, Map.copyOf(target), clock.instant()));
  }

  /**
   * Forgets {@code holder} (placed, in a queue now, ended or deleted); true when GPUs were held for
   * it, which other waiting jobs may now take.
   */
  synchronized boolean done(String holder) {
    Waiting w = waiting.remove(holder);
    return w != null && !w.target().isEmpty();
  }

  /**
   * {@code holdings} plus the GPUs held for jobs that have waited longer than {@code placing} (for
   * every held job when {@code placing} is not one), each under {@link #HELD_PREFIX} and its
   * holder. The snapshot caps what a node holds at what it has, so held GPUs still taken by running
   * pods count once.
   */
  synchronized Map<String, Map<String, Integer>> withHolds(
      Map<String, Map<String, Integer>> holdings, String placing) {
    Map<String, Map<String, Integer>> out = new HashMap<>(holdings);
    for (Waiting w : olderThan(placing)) {
      if (!w.target().isEmpty()) {
        out.put(HELD_PREFIX + w.holder(), w.target());
      }
    }
    return out;
  }

  /** The jobs held for, oldest first, that waited longer than {@code placing}. */
  synchronized List<Waiting> olderThan(String placing) {
    Waiting self = waiting.get(placing);
    Comparator<Waiting> order = Comparator.comparing(Waiting::since).thenComparing(Waiting::holder);
    return waiting.values().stream()
        .filter(w -> self == null || order.compare(w, self) < 0)
        .sorted(order)
        .toList();
  }
}
