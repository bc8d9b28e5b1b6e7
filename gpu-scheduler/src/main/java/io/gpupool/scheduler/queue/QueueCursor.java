package io.gpupool.scheduler.queue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Per queue and cycle: where the walk through its pending workloads stands. */
final class QueueCursor {
  final QueueState queue;
  final Iterator<Workload> it;
  double share;
  boolean blocked;
  int examined;

  /**
   * What the queue could take at most, computed when the book had made maxAvailableAt admissions.
   */
  long maxAvailable;

  long maxAvailableAt = -1;

  /**
   * Workloads of this queue that did not fit this cycle, per accepted-products set, as (GPUs, end)
   * pairs. Within a cycle the room a queue sees only shrinks, so a later workload asking at least
   * as many GPUs of the same products, for at least as long, cannot fit either.
   */
  private final Map<Set<String>, List<long[]>> misses = new HashMap<>();

  QueueCursor(QueueState queue, double share) {
    this.queue = queue;
    this.it = queue.pending.iterator();
    this.share = share;
  }

  boolean knownMiss(Workload w, long endsBy) {
    for (long[] miss : misses.getOrDefault(w.allowedProducts(), List.of())) {
      if (miss[0] <= w.gpus() && miss[1] <= endsBy) {
        return true;
      }
    }
    return false;
  }

  void miss(Workload w, long endsBy) {
    List<long[]> list = misses.computeIfAbsent(w.allowedProducts(), k -> new ArrayList<>());
    list.removeIf(m -> m[0] >= w.gpus() && m[1] >= endsBy);
    list.add(new long[] {w.gpus(), endsBy});
  }
}
