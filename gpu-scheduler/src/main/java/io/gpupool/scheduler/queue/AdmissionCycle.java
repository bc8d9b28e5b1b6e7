package io.gpupool.scheduler.queue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * One decision cycle of an {@link AdmissionBook} at one instant: the queues in order of dominant
 * share, each queue's workloads in priority then arrival order; a workload that fits is admitted,
 * the first that does not is its queue's head (it evicts, or the capacity free to it is held for
 * it), later ones only backfill what the head does not need yet. Used once.
 */
final class AdmissionCycle {
  private final AdmissionBook book;
  private final Capacity capacity;
  private final Evictions evictions;
  private final long now;
  private final List<Admission> admitted = new ArrayList<>();
  private final List<Preemption> preempted = new ArrayList<>();
  private final Map<String, String> waiting = new LinkedHashMap<>();
  private final Map<String, String> inadmissible = new LinkedHashMap<>();

  /** Queues whose head waited in this cycle. */
  private final Set<String> blocked = new HashSet<>();

  AdmissionCycle(AdmissionBook book, Capacity capacity, Evictions evictions, long now) {
    this.book = book;
    this.capacity = capacity;
    this.evictions = evictions;
    this.now = now;
  }

  /** Queues whose head waited in the cycle run. */
  Set<String> blocked() {
    return blocked;
  }

  /** Decides; {@code waitedBefore}: queues whose head waited last cycle. */
  CycleResult run(Set<String> waitedBefore) {
    capacity.refreshCohorts();
    capacity.clearHolds();
    admitClaims();

    // Equal shares: a queue whose head waited last cycle goes first, so that what frees up is
    // held for it rather than handed back to a peer at the same share again and again.
    PriorityQueue<QueueCursor> heap =
        new PriorityQueue<>(
            Comparator.<QueueCursor>comparingDouble(c -> c.share)
                .thenComparing(c -> !waitedBefore.contains(c.queue.name))
                .thenComparing(c -> c.queue.name));
    for (QueueState q : book.queueStates()) {
      if (q.pending.isEmpty()) {
        continue;
      }
      if (q.definition == null) {
        for (Workload w : q.pending) {
          inadmissible.put(w.id(), "GpuQueue " + q.name + " does not exist");
        }
        continue;
      }
      heap.add(new QueueCursor(q, capacity.share(q)));
    }
    List<QueueCursor> cursors = new ArrayList<>(heap);
    while (!heap.isEmpty()) {
      QueueCursor c = heap.poll();
      Workload w = next(c);
      if (w == null) {
        continue;
      }
      long endsBy = w.bounded() ? now + w.expectedRuntimeMillis() : Long.MAX_VALUE;
      if (c.blocked && c.knownMiss(w, endsBy)) {
        heap.add(c);
        continue;
      }
      List<Quota> flavors = capacity.feasibleFlavors(c.queue, w);
      if (flavors.isEmpty()) {
        String why = capacity.whyNever(c.queue, w);
        inadmissible.put(w.id(), why);
        book.knownInadmissible(w.id(), why);
        heap.add(c);
        continue;
      }
      NodeShapes shapes = book.shapes();
      if (shapes != null) {
        List<Quota> placeable = ShapeFit.placeable(shapes, w, flavors);
        if (placeable.isEmpty()) {
          // Set aside, holding nothing: quota it took would stay unused until the pool changes.
          waiting.put(w.id(), ShapeFit.noNodeShape(shapes, w, flavors));
          heap.add(c);
          continue;
        }
        flavors = placeable;
      }
      long barred = evictions.barredUntil(w.id());
      boolean mayBorrow = barred <= now;
      Quota fit =
          capacity.firstFitting(
              c.queue, w, mayBorrow ? flavors : Capacity.withinNominal(c.queue, w, flavors), now);
      if (fit != null) {
        c.it.remove();
        c.queue.forgetPendingSize(w);
        admitted.add(book.admit(c.queue, w, fit, now));
        c.share = capacity.share(c.queue);
        heap.add(c);
        continue;
      }
      if (!mayBorrow) {
        // Set aside, not the head: what its queue may borrow goes to the workloads behind it.
        waiting.put(w.id(), evictions.barredReason(w, barred));
        heap.add(c);
        continue;
      }
      c.miss(w, endsBy);
      if (!c.blocked) {
        c.blocked = true;
        blocked.add(c.queue.name);
        waiting.put(w.id(), blockHead(c.queue, w, flavors));
      }
      if (c.queue.definition.strategy() == QueueingStrategy.BEST_EFFORT_FIFO) {
        heap.add(c);
      }
    }
    int examined = 0;
    for (QueueCursor c : cursors) {
      examined += c.examined;
    }
    return new CycleResult(admitted, preempted, waiting, inadmissible, examined);
  }

  /**
   * The next workload of {@code c}'s queue to decide on; null when the queue is done for this cycle
   * (looked far enough, or nothing left in it can fit anywhere). Workloads a cycle already found
   * inadmissible are passed over here, without going back through the queues' heap: they change
   * nothing (the same cursor would be polled again), and the caller keeps their verdict.
   */
  private Workload next(QueueCursor c) {
    if (!c.it.hasNext() || c.examined >= book.lookahead()) {
      return null;
    }
    if (c.blocked && c.queue.smallestPending() > maxAvailable(c)) {
      return null; // nothing left in this queue can fit anywhere
    }
    while (c.it.hasNext() && c.examined < book.lookahead()) {
      Workload w = c.it.next();
      c.examined++;
      if (!book.isKnownInadmissible(w.id())) {
        return w;
      }
    }
    return null;
  }

  /** {@link Capacity#maxAvailable} of the cursor's queue, again only after an admission. */
  private long maxAvailable(QueueCursor c) {
    if (c.maxAvailableAt != book.admissions()) {
      c.maxAvailable = capacity.maxAvailable(c.queue);
      c.maxAvailableAt = book.admissions();
    }
    return c.maxAvailable;
  }

  /** Preemptors whose victims have all left take the freed GPUs before anyone else. */
  private void admitClaims() {
    for (Map.Entry<String, Evictions.Claim> ready : evictions.takeReady()) {
      Workload w = book.pending(ready.getKey()).orElse(null);
      if (w == null) {
        continue;
      }
      QueueState q = book.queue(w.queue());
      Quota quota = q.quota(ready.getValue().flavor());
      if (quota != null && capacity.available(q, quota.flavor(), QueueState::usage) >= w.gpus()) {
        q.removePending(w);
        admitted.add(book.admit(q, w, quota, now));
      }
    }
  }

  /** A queue's head does not fit: it evicts, or what is free to it is held for it. */
  private String blockHead(QueueState q, Workload w, List<Quota> flavors) {
    Evictions.Claim claim = evictions.claim(w.id());
    if (claim != null) {
      capacity.hold(q, w, claim.flavor(), now);
      return "waiting for "
          + claim.victims().size()
          + " evicted workload(s) to leave "
          + claim.flavor()
          + " GPUs";
    }
    for (Quota quota : flavors) {
      List<AdmittedWorkload> victims = evictions.victims(q, w, quota.flavor(), now);
      if (victims.isEmpty()) {
        continue;
      }
      preempted.addAll(evictions.evict(q, w, quota.flavor(), victims, now, book::queue));
      capacity.hold(q, w, quota.flavor(), now);
      return "preempting " + victims.size() + " workload(s) for " + quota.flavor() + " GPUs";
    }
    String flavor = flavors.get(0).flavor();
    long free = capacity.hold(q, w, flavor, now);
    return "needs "
        + w.gpus()
        + " "
        + flavor
        + " GPUs, "
        + free
        + " free to GpuQueue "
        + q.name
        + "; they are held for it";
  }
}
