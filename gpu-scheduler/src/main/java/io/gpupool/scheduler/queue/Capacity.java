package io.gpupool.scheduler.queue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What each queue may take of a flavor: the part of its nominal quota it does not lend plus
 * whatever of its cohort's lendable pool is free, up to nominal + borrowing limit; the capacity a
 * cycle holds for its blocked heads; and each queue's dominant share. Reads the queues' usage,
 * never changes it.
 */
final class Capacity {
  /** GPUs a queue counts as held in a flavor, under some hypothesis. */
  interface UsageView {
    long usage(QueueState queue, String flavor);
  }

  /** Capacity kept for a blocked head until {@code shadow}, when it expects to start. */
  private record Hold(int gpus, long shadow) {}

  private final Map<String, QueueState> queues;
  private final Map<String, List<QueueState>> cohorts = new HashMap<>();
  private final Map<QueueState, Map<String, List<Hold>>> holds = new HashMap<>();
  private boolean cohortsStale = true;

  Capacity(Map<String, QueueState> queues) {
    this.queues = queues;
  }

  /** A queue's definition changed: cohorts are gathered again before their next use. */
  void definitionsChanged() {
    cohortsStale = true;
  }

  void refreshCohorts() {
    if (!cohortsStale) {
      return;
    }
    cohorts.clear();
    for (QueueState q : queues.values()) {
      if (q.definition != null && q.definition.cohort() != null) {
        cohorts.computeIfAbsent(q.definition.cohort(), k -> new ArrayList<>()).add(q);
      }
    }
    cohortsStale = false;
  }

  /** The queues of a cohort (after {@link #refreshCohorts}). */
  List<QueueState> cohort(String name) {
    return cohorts.get(name);
  }

  /** A cycle starts: no head holds anything yet. */
  void clearHolds() {
    holds.clear();
  }

  /** GPUs {@code q} could take in {@code flavor} now, given what {@code view} says is held. */
  long available(QueueState q, String flavor, UsageView view) {
    Quota quota = q.quota(flavor);
    if (quota == null) {
      return 0;
    }
    long used = view.usage(q, flavor);
    String cohort = q.definition.cohort();
    if (cohort == null) {
      return Math.max(0, quota.nominal() - used);
    }
    long pool = 0;
    long poolUsed = 0;
    for (QueueState m : cohorts.get(cohort)) {
      Quota mq = m.quota(flavor);
      if (mq == null) {
        continue;
      }
      pool += mq.lendable();
      poolUsed += Math.max(0, view.usage(m, flavor) - mq.guaranteed());
    }
    long own = Math.max(0, quota.guaranteed() - used);
    long headroom = quota.maxUsage() == Long.MAX_VALUE ? Long.MAX_VALUE : quota.maxUsage() - used;
    return Math.max(0, Math.min(headroom, own + Math.max(0, pool - poolUsed)));
  }

  /** The most {@code q} could ever hold of {@code quota}'s flavor, everyone else idle. */
  long ceiling(QueueState q, Quota quota) {
    String cohort = q.definition.cohort();
    if (cohort == null) {
      return quota.nominal();
    }
    long pool = 0;
    for (QueueState m : cohorts.get(cohort)) {
      Quota mq = m.quota(quota.flavor());
      pool += mq == null ? 0 : mq.lendable();
    }
    return Math.min(quota.maxUsage(), quota.guaranteed() + pool);
  }

  /** The most {@code q} could take now of any one of its flavors. */
  long maxAvailable(QueueState q) {
    long best = 0;
    for (Quota quota : q.definition.quotas()) {
      best = Math.max(best, available(q, quota.flavor(), QueueState::usage));
    }
    return best;
  }

  /**
   * Usage as candidate {@code w} of queue {@code p} sees it: admitted GPUs plus the holds it must
   * respect. A bounded workload ending before a hold's head could start ignores that hold; one
   * within its own queue's nominal quota ignores the holds of other queues.
   */
  UsageView viewFor(Workload w, QueueState p, String flavor, long now) {
    if (holds.isEmpty()) {
      return QueueState::usage;
    }
    boolean withinNominal = p.usage(flavor) + w.gpus() <= p.nominal(flavor);
    long endsBy = w.bounded() ? now + w.expectedRuntimeMillis() : Long.MAX_VALUE;
    return (r, f) -> {
      long used = r.usage(f);
      if (withinNominal && r != p) {
        return used;
      }
      Map<String, List<Hold>> byFlavor = holds.get(r);
      if (byFlavor != null) {
        for (Hold h : byFlavor.getOrDefault(f, List.of())) {
          boolean endsFirst = w.bounded() && endsBy <= h.shadow();
          if (!endsFirst) {
            used += h.gpus();
          }
        }
      }
      return used;
    };
  }

  /** The flavors of {@code q} that accept {@code w}'s products and could ever hold it. */
  List<Quota> feasibleFlavors(QueueState q, Workload w) {
    List<Quota> out = new ArrayList<>(2);
    for (Quota quota : q.definition.quotas()) {
      if (quota.admits(w.allowedProducts()) && ceiling(q, quota) >= w.gpus()) {
        out.add(quota);
      }
    }
    return out;
  }

  /** Why {@code w} has no feasible flavor in {@code q}. */
  String whyNever(QueueState q, Workload w) {
    long most = 0;
    boolean anyProduct = false;
    for (Quota quota : q.definition.quotas()) {
      if (quota.admits(w.allowedProducts())) {
        anyProduct = true;
        most = Math.max(most, ceiling(q, quota));
      }
    }
    if (!anyProduct) {
      return "GpuQueue "
          + q.name
          + " has no quota for GPU products "
          + new TreeSet<>(w.allowedProducts());
    }
    return "needs "
        + w.gpus()
        + " GPUs but GpuQueue "
        + q.name
        + " can never hold more than "
        + most
        + " of the products it accepts";
  }

  /** The flavors where {@code w} would stay within its queue's nominal quota. */
  static List<Quota> withinNominal(QueueState q, Workload w, List<Quota> flavors) {
    List<Quota> out = new ArrayList<>(flavors.size());
    for (Quota quota : flavors) {
      if (q.usage(quota.flavor()) + w.gpus() <= quota.nominal()) {
        out.add(quota);
      }
    }
    return out;
  }

  /** The first of {@code flavors} with room for {@code w} now, holds respected; null if none. */
  Quota firstFitting(QueueState q, Workload w, List<Quota> flavors, long now) {
    for (Quota quota : flavors) {
      if (available(q, quota.flavor(), viewFor(w, q, quota.flavor(), now)) >= w.gpus()) {
        return quota;
      }
    }
    return null;
  }

  /** Holds what is free to head {@code w} now, until it could start; returns that amount. */
  long hold(QueueState q, Workload w, String flavor, long now) {
    long free = Math.min(w.gpus(), available(q, flavor, viewFor(w, q, flavor, now)));
    long shadow = shadowTime(q, flavor, w.gpus() - free, now);
    holds
        .computeIfAbsent(q, k -> new HashMap<>())
        .computeIfAbsent(flavor, k -> new ArrayList<>())
        .add(new Hold((int) free, shadow));
    return free;
  }

  /**
   * Earliest instant at which admitted workloads of the queue (and its cohort) that are sure to
   * have ended free {@code missing} more GPUs; {@code Long.MAX_VALUE} when unknown.
   */
  private long shadowTime(QueueState q, String flavor, long missing, long now) {
    if (missing <= 0) {
      return now;
    }
    // Evicted workloads leave now; then the bounded ones in the order they must end by, merged
    // from each queue's ordered set and stopped once enough is freed (no sort of every admitted
    // workload per blocked head and cycle).
    long freed = 0;
    List<QueueState> members = scope(q);
    for (QueueState m : members) {
      for (AdmittedWorkload a : m.evicting(flavor)) {
        freed += a.workload().gpus();
      }
    }
    if (freed >= missing) {
      return now;
    }
    List<Iterator<AdmittedWorkload>> its = new ArrayList<>(members.size());
    AdmittedWorkload[] heads = new AdmittedWorkload[members.size()];
    for (int i = 0; i < members.size(); i++) {
      its.add(members.get(i).ending(flavor));
      heads[i] = nextRunning(its.get(i));
    }
    while (true) {
      int soonest = -1;
      for (int i = 0; i < heads.length; i++) {
        if (heads[i] != null
            && (soonest < 0 || QueueState.BY_END.compare(heads[i], heads[soonest]) < 0)) {
          soonest = i;
        }
      }
      if (soonest < 0) {
        return Long.MAX_VALUE;
      }
      AdmittedWorkload a = heads[soonest];
      freed += a.workload().gpus();
      if (freed >= missing) {
        return Math.max(now, a.endBy());
      }
      heads[soonest] = nextRunning(its.get(soonest));
    }
  }

  /** The next workload of {@code it} not being evicted (those are counted first). */
  private static AdmittedWorkload nextRunning(Iterator<AdmittedWorkload> it) {
    while (it.hasNext()) {
      AdmittedWorkload a = it.next();
      if (!a.evicting()) {
        return a;
      }
    }
    return null;
  }

  /**
   * Dominant share: the largest fraction of its cohort's nominal GPUs of any flavor the queue
   * holds, divided by its weight (dominant-resource fairness over GPU products).
   */
  double share(QueueState q) {
    if (q.definition == null) {
      return 0;
    }
    double dominant = 0;
    for (Quota quota : q.definition.quotas()) {
      long total = 0;
      for (QueueState m : scope(q)) {
        total += m.nominal(quota.flavor());
      }
      if (total > 0) {
        dominant = Math.max(dominant, (double) q.usage(quota.flavor()) / total);
      }
    }
    return dominant / q.definition.weight();
  }

  private List<QueueState> scope(QueueState q) {
    String cohort = q.definition == null ? null : q.definition.cohort();
    return cohort == null ? List.of(q) : cohorts.get(cohort);
  }
}
