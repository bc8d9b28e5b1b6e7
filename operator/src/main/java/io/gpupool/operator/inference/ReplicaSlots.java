package io.gpupool.operator.inference;

import io.gpupool.api.v1alpha1.QueuedReplica;
import io.gpupool.operator.queue.InferenceAdmission;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code status.queuedReplicas}: each replica above the minimum as the job's queue holds it
 * (admitted or waiting, since when it waits) and the evictions it had. A restarted operator
 * restores them from it, so a waiting replica keeps its place and victim choice still counts a
 * replica's earlier evictions.
 */
final class ReplicaSlots {
  private ReplicaSlots() {}

  /**
   * The entries for {@code slots}, carrying each one's evictions over from {@code before} and
   * counting those just evicted for {@code evictedFor} at {@code now}. An empty list (not null)
   * when none: a merge patch would keep the old list.
   */
  static List<QueuedReplica> record(
      List<QueuedReplica> before,
      List<InferenceAdmission.Slot> slots,
      String evictedFor,
      Instant now) {
    Map<Integer, QueuedReplica> old = new HashMap<>();
    if (before != null) {
      before.stream().filter(r -> r.slot != null).forEach(r -> old.put(r.slot, r));
    }
    List<QueuedReplica> entries = new ArrayList<>();
    for (InferenceAdmission.Slot s : slots) {
      QueuedReplica was = old.get(s.slot());
      QueuedReplica r = new QueuedReplica();
      r.slot = s.slot();
      r.admitted = s.admitted();
      r.queuedSince = s.since().toString();
      if (was != null) {
        r.preemptions = was.preemptions;
        r.evictedFor = was.evictedFor;
        r.preemptedAt = was.preemptedAt;
      }
      if (s.evicted()) {
        r.preemptions = r.preemptions == null ? 1 : r.preemptions + 1;
        r.evictedFor = evictedFor;
        r.preemptedAt = now.toString();
      }
      entries.add(r);
    }
    return entries;
  }

  /** No replica above the minimum is queued: the list is emptied (null when it never was set). */
  static List<QueuedReplica> none(List<QueuedReplica> before) {
    return before == null ? null : new ArrayList<>();
  }
}
