package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.Admission;
import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.CycleResult;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The jobs no quota can ever cover as queues are defined now, and why. A round says so only of
 * those it found this time (the book does not repeat a verdict while no queue changed): one not
 * named keeps its verdict while no queue changed (only a queue's definition makes a job
 * admissible); after a change it is asked again. Every job whose verdict changed either way is
 * woken, so that its status no longer says it can never be admitted once a queue opened (and a job
 * marked while a quota was 0 is offered again).
 */
final class InadmissibleJobs {
  private final Map<String, String> why = new HashMap<>();
  private final Consumer<String> wake;

  InadmissibleJobs(Consumer<String> wake) {
    this.wake = wake;
  }

  String why(String id) {
    return why.get(id);
  }

  boolean contains(String id) {
    return why.containsKey(id);
  }

  void forget(String id) {
    why.remove(id);
  }

  /** Takes a round's verdicts; {@code queuesChanged}: a queue changed since the last round. */
  void update(CycleResult result, boolean queuesChanged, AdmissionBook book) {
    if (queuesChanged) {
      recheck(result, book);
      return;
    }
    // No queue changed: only what this round found, or took out of that state, moves.
    for (var e : result.inadmissible().entrySet()) {
      if (!e.getValue().equals(why.put(e.getKey(), e.getValue()))) {
        wake.accept(e.getKey());
      }
    }
    for (String id : result.waiting().keySet()) {
      if (why.remove(id) != null) {
        wake.accept(id);
      }
    }
    for (Admission a : result.admitted()) {
      why.remove(a.workloadId()); // woken as admitted
    }
  }

  /** After a queue changed: every job marked inadmissible is asked again (one pass over them). */
  private void recheck(CycleResult result, AdmissionBook book) {
    Map<String, String> before = new HashMap<>(why);
    why.clear();
    why.putAll(result.inadmissible());
    for (var e : before.entrySet()) {
      String id = e.getKey();
      if (why.containsKey(id) || result.waiting().containsKey(id) || !book.isPending(id)) {
        continue;
      }
      book.inadmissible(id).ifPresent(reason -> why.put(id, reason));
    }
    for (var e : before.entrySet()) {
      if (!e.getValue().equals(why.get(e.getKey()))) {
        wake.accept(e.getKey());
      }
    }
    for (String id : why.keySet()) {
      if (!before.containsKey(id)) {
        wake.accept(id);
      }
    }
  }
}
