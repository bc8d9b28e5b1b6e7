package io.gpupool.scheduler.queue;

import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/** One queue's book: its pending workloads in admission order and what it holds per flavor. */
final class QueueState {
  /** Higher priority first, then earlier arrival; the id breaks ties so the order is total. */
  static final Comparator<Workload> ORDER =
      Comparator.comparingInt(Workload::priority)
          .reversed()
          .thenComparingLong(Workload::arrival)
          .thenComparing(Workload::id);

  final String name;
  QueueDefinition definition;
  final TreeSet<Workload> pending = new TreeSet<>(ORDER);
  private final TreeMap<Integer, Integer> pendingSizes = new TreeMap<>();
  private final Map<String, Integer> usage = new HashMap<>();
  final Map<String, Map<String, AdmittedWorkload>> admitted = new HashMap<>();

  QueueState(String name) {
    this.name = name;
  }

  void addPending(Workload w) {
    pending.add(w);
    pendingSizes.merge(w.gpus(), 1, Integer::sum);
  }

  /** Book-keeping for a workload already taken out of {@link #pending} (by an iterator). */
  void forgetPendingSize(Workload w) {
    pendingSizes.computeIfPresent(w.gpus(), (k, v) -> v == 1 ? null : v - 1);
  }

  void removePending(Workload w) {
    if (pending.remove(w)) {
      forgetPendingSize(w);
    }
  }

  int smallestPending() {
    return pendingSizes.isEmpty() ? Integer.MAX_VALUE : pendingSizes.firstKey();
  }

  void admit(AdmittedWorkload a) {
    admitted.computeIfAbsent(a.flavor(), f -> new LinkedHashMap<>()).put(a.workload().id(), a);
    usage.merge(a.flavor(), a.workload().gpus(), Integer::sum);
  }

  void release(AdmittedWorkload a) {
    Map<String, AdmittedWorkload> byId = admitted.get(a.flavor());
    if (byId != null && byId.remove(a.workload().id()) != null) {
      usage.merge(a.flavor(), -a.workload().gpus(), Integer::sum);
    }
  }

  int usage(String flavor) {
    return usage.getOrDefault(flavor, 0);
  }

  int admittedCount() {
    int n = 0;
    for (Map<String, AdmittedWorkload> byId : admitted.values()) {
      n += byId.size();
    }
    return n;
  }

  Quota quota(String flavor) {
    return definition == null ? null : definition.quota(flavor).orElse(null);
  }

  int nominal(String flavor) {
    Quota q = quota(flavor);
    return q == null ? 0 : q.nominal();
  }
}
