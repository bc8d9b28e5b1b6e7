package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.AdmissionBook;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Whom admission tells what: the queues whose figures a round may have moved, the queues that
 * appeared; and the jobs a round wakes: the jobs it admitted or evicted, at once; the heads of
 * queues whose place moved, at once; other moves within the first {@link #POSITION_WAKE_LIMIT}
 * places gathered and woken together every {@link #POSITION_REFRESH}. Called under the {@link
 * AdmissionController}'s lock; the gathered refresh takes that lock again through the task the
 * controller gives it.
 */
final class AdmissionWakes {
  /** Queued jobs beyond this place are not woken when their place moves (status catches up). */
  static final int POSITION_WAKE_LIMIT = 50;

  /** A job moved up to this place is woken at once (the head of its queue: its hold, its turn). */
  static final int POSITION_WAKE_AT_ONCE = 1;

  /**
   * Other moves within {@link #POSITION_WAKE_LIMIT} are gathered and woken together at most this
   * often (as Kueue refreshes its pending-workload positions every 5 s): waking them at every round
   * cost one status write per place per admission, 50 writes for each job admitted.
   */
  static final Duration POSITION_REFRESH = Duration.ofSeconds(5);

  private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> queueListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> addedListeners = new CopyOnWriteArrayList<>();
  private final Runnable refreshDue;
  private final Set<String> movedPositions = new LinkedHashSet<>();
  private boolean refreshScheduled;
  private Later later = Later.TIMER;

  /** Places of the first {@link #POSITION_WAKE_LIMIT} jobs of each queue after the last round. */
  private Map<String, Integer> positions = new HashMap<>();

  /** The job whose own decide() runs the current round (null otherwise). */
  private String deciding;

  /** {@code refreshDue}: runs {@link #refreshPositions} under the controller's lock. */
  AdmissionWakes(Runnable refreshDue) {
    this.refreshDue = refreshDue;
  }

  void onWake(Consumer<String> listener) {
    listeners.add(listener);
  }

  void onQueueChange(Consumer<String> listener) {
    queueListeners.add(listener);
  }

  void onQueueAdded(Consumer<String> listener) {
    addedListeners.add(listener);
  }

  /** A queue's figures may have moved. */
  void queueChanged(String queue) {
    if (queue == null) {
      return;
    }
    for (Consumer<String> l : queueListeners) {
      l.accept(queue);
    }
  }

  /** A queue appeared. */
  void queueAdded(String queue) {
    addedListeners.forEach(l -> l.accept(queue));
  }

  void later(Later later) {
    this.later = later;
  }

  Later later() {
    return later;
  }

  /** The job whose own reconcile runs the coming round: it takes that round's verdict itself. */
  void deciding(String id) {
    deciding = id;
  }

  void wake(String id) {
    if (id.equals(deciding)) {
      return; // its reconcile is under way and takes the verdict of this round
    }
    for (Consumer<String> l : listeners) {
      l.accept(id);
    }
  }

  /**
   * After a round: compares the first places of each queue with the last round's and wakes the jobs
   * that moved (an inadmissible job's status shows no place). Only those places are compared: a
   * round costs the same whether 100 or 10,000 jobs wait; places further back are read when asked
   * ({@link #position}).
   */
  void positionsAfterRound(AdmissionBook book, Predicate<String> inadmissible) {
    Map<String, Integer> before = positions;
    Map<String, Integer> top = new HashMap<>();
    book.positions(
        POSITION_WAKE_LIMIT,
        (id, queue, position) -> {
          top.put(id, position);
          Integer old = before.get(id);
          if ((old == null || old != position) && !inadmissible.test(id)) {
            if (position <= POSITION_WAKE_AT_ONCE) {
              wake(id);
            } else {
              positionMoved(id);
            }
          }
        });
    positions = top;
  }

  /** 1-based place of a pending workload in its queue after the last round; 0 when unknown. */
  int position(AdmissionBook book, String id) {
    Integer top = positions.get(id);
    return top != null ? top : book.position(id);
  }

  void forget(String id) {
    positions.remove(id);
  }

  private void positionMoved(String id) {
    movedPositions.add(id);
    if (!refreshScheduled) {
      refreshScheduled = true;
      later.run(refreshDue, POSITION_REFRESH);
    }
  }

  /** Wakes the jobs whose place moved since the last refresh and still wait. */
  void refreshPositions(Predicate<String> stillPending) {
    refreshScheduled = false;
    List<String> moved = List.copyOf(movedPositions);
    movedPositions.clear();
    for (String id : moved) {
      if (stillPending.test(id)) {
        wake(id);
      }
    }
  }
}
