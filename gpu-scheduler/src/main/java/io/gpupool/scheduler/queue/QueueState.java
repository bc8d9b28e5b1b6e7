package io.gpupool.scheduler.queue;

import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
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

  /** Admitted workloads sure to end by a known instant, per flavor, soonest first. */
  private final Map<String, TreeSet<AdmittedWorkload>> ending = new HashMap<>();

  /** Admitted workloads evicted and still leaving, per flavor. */
  private final Map<String, Set<AdmittedWorkload>> evicting = new HashMap<>();

  static final Comparator<AdmittedWorkload> BY_END =
      Comparator.comparingLong(AdmittedWorkload::endBy).thenComparing(a -> a.workload().id());

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
    if (a.endBy() != Long.MAX_VALUE) {
      ending.computeIfAbsent(a.flavor(), f -> new TreeSet<>(BY_END)).add(a);
    }
    if (a.evicting()) {
      evicting(a);
    }
  }

  /** {@code a} (admitted here) was evicted. */
  void evicting(AdmittedWorkload a) {
    evicting.computeIfAbsent(a.flavor(), f -> new LinkedHashSet<>()).add(a);
  }

  Set<AdmittedWorkload> evicting(String flavor) {
    return evicting.getOrDefault(flavor, Set.of());
  }

  /** Bounded admitted workloads of {@code flavor}, the soonest to end first. */
  Iterator<AdmittedWorkload> ending(String flavor) {
    TreeSet<AdmittedWorkload> set = ending.get(flavor);
    return set == null ? Collections.emptyIterator() : set.iterator();
  }

  void release(AdmittedWorkload a) {
    Map<String, AdmittedWorkload> byId = admitted.get(a.flavor());
    if (byId != null && byId.remove(a.workload().id()) != null) {
      usage.merge(a.flavor(), -a.workload().gpus(), Integer::sum);
      TreeSet<AdmittedWorkload> set = ending.get(a.flavor());
      if (set != null) {
        set.remove(a);
      }
      Set<AdmittedWorkload> leaving = evicting.get(a.flavor());
      if (leaving != null) {
        leaving.remove(a);
      }
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
