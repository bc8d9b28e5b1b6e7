package io.gpupool.scheduler.queue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;

/**
 * Preemption's book: which victims a blocked head may evict, the claims of preemptors waiting for
 * their victims to leave, and how often each workload was evicted (its borrowing backoff).
 */
final class Evictions {
  /** A preemptor waiting for its victims to leave; their GPUs are its first. */
  record Claim(String flavor, Set<String> victims) {}

  private final Capacity capacity;
  private final Map<String, Claim> claims = new HashMap<>();
  private final Map<String, Integer> counts = new HashMap<>();
  private final Map<String, Long> barredUntil = new HashMap<>();

  Evictions(Capacity capacity) {
    this.capacity = capacity;
  }

  Claim claim(String preemptor) {
    return claims.get(preemptor);
  }

  /**
   * Takes out the claims whose victims have all left, in preemptor id order: the preemptors are
   * admitted on the freed GPUs if they still fit, otherwise they compete as usual.
   */
  List<Map.Entry<String, Claim>> takeReady() {
    List<String> ready = new ArrayList<>();
    claims.forEach(
        (id, claim) -> {
          if (claim.victims().isEmpty()) {
            ready.add(id);
          }
        });
    ready.sort(Comparator.naturalOrder());
    List<Map.Entry<String, Claim>> out = new ArrayList<>(ready.size());
    for (String id : ready) {
      out.add(Map.entry(id, claims.remove(id)));
    }
    return out;
  }

  /** The preemptor was admitted: it waits for nobody. */
  void admitted(String id) {
    claims.remove(id);
  }

  /** The workload is gone: its claim, count and backoff with it. */
  void forget(String id) {
    claims.remove(id);
    counts.remove(id);
    barredUntil.remove(id);
  }

  /** An admitted workload left; when it was a victim, its preemptor waits for one fewer. */
  void left(AdmittedWorkload a) {
    if (a.evicting()) {
      Claim claim = claims.get(a.evictedFor());
      if (claim != null) {
        claim.victims().remove(a.workload().id());
      }
    }
  }

  /**
   * What a restarted operator read of a workload's evictions: {@code times} so far, the last at
   * {@code lastAt} (negative: unknown, no backoff restored).
   */
  void restore(String id, int times, long lastAt) {
    counts.put(id, times);
    long wait = backoff(times);
    if (wait > 0 && lastAt >= 0) {
      barredUntil.put(id, lastAt + wait);
    }
  }

  /** An eviction a restarted operator found in flight: marked and claimed as {@link #evict} did. */
  void restoreInFlight(AdmittedWorkload victim, String preemptor, QueueState q) {
    victim.evict(preemptor);
    q.evicting(victim);
    claims
        .computeIfAbsent(preemptor, p -> new Claim(victim.flavor(), new HashSet<>()))
        .victims()
        .add(victim.workload().id());
  }

  /** Times the workload was evicted since it was offered. */
  int count(String id) {
    return counts.getOrDefault(id, 0);
  }

  /** Until when the workload may not borrow; 0 when it may. */
  long barredUntil(String id) {
    return barredUntil.getOrDefault(id, 0L);
  }

  OptionalLong borrowingBarredUntil(String id) {
    Long until = barredUntil.get(id);
    return until == null ? OptionalLong.empty() : OptionalLong.of(until);
  }

  /**
   * Evicts {@code victims} for head {@code w} of queue {@code q} on {@code flavor}: marks them,
   * counts the eviction (and bars borrowing from the second on), and records the head's claim on
   * them.
   */
  List<Preemption> evict(
      QueueState q,
      Workload w,
      String flavor,
      List<AdmittedWorkload> victims,
      long now,
      Function<String, QueueState> queueOf) {
    List<Preemption> out = new ArrayList<>(victims.size());
    Set<String> ids = new HashSet<>();
    for (AdmittedWorkload v : victims) {
      v.evict(w.id());
      queueOf.apply(v.workload().queue()).evicting(v);
      ids.add(v.workload().id());
      int times = counts.merge(v.workload().id(), 1, Integer::sum);
      long wait = backoff(times);
      if (wait > 0) {
        barredUntil.put(v.workload().id(), now + wait);
      }
      String victimQueue = v.workload().queue();
      out.add(
          new Preemption(
              v.workload().id(),
              victimQueue,
              w.id(),
              flavor,
              victimQueue.equals(q.name)
                  ? Preemption.Reason.IN_QUEUE_PRIORITY
                  : Preemption.Reason.COHORT_RECLAIM));
    }
    claims.put(w.id(), new Claim(flavor, ids));
    return out;
  }

  /**
   * Whom head {@code w} of {@code q} may evict for {@code flavor}: lower priority in its queue, or
   * borrowers of its cohort when it is within its nominal quota; those losing the least work.
   */
  List<AdmittedWorkload> victims(QueueState q, Workload w, String flavor, long now) {
    List<AdmittedWorkload> candidates = new ArrayList<>();
    if (q.definition.withinQueue() == WithinQueuePreemption.LOWER_PRIORITY) {
      for (AdmittedWorkload a : q.admitted.getOrDefault(flavor, Map.of()).values()) {
        if (!a.evicting() && a.workload().priority() < w.priority()) {
          candidates.add(a);
        }
      }
    }
    CohortReclaim reclaim = q.definition.reclaim();
    if (q.definition.cohort() != null
        && reclaim != CohortReclaim.NEVER
        && q.usage(flavor) + w.gpus() <= q.nominal(flavor)) {
      for (QueueState m : capacity.cohort(q.definition.cohort())) {
        if (m == q || m.usage(flavor) <= m.nominal(flavor)) {
          continue;
        }
        for (AdmittedWorkload a : m.admitted.getOrDefault(flavor, Map.of()).values()) {
          if (!a.evicting()
              && (reclaim == CohortReclaim.ANY || a.workload().priority() < w.priority())) {
            candidates.add(a);
          }
        }
      }
    }
    if (candidates.isEmpty()) {
      return List.of();
    }
    return VictimChooser.choose(
        candidates,
        w.gpus(),
        now,
        gone -> capacity.available(q, flavor, (r, f) -> r.usage(f) - gpusOf(gone, r.name, f)));
  }

  private static long gpusOf(Collection<AdmittedWorkload> gone, String queue, String flavor) {
    long n = 0;
    for (AdmittedWorkload a : gone) {
      if (a.flavor().equals(flavor) && a.workload().queue().equals(queue)) {
        n += a.workload().gpus();
      }
    }
    return n;
  }

  /** Why a workload barred from borrowing until {@code barred} is set aside. */
  String barredReason(Workload w, long barred) {
    int times = count(w.id());
    return "evicted "
        + times
        + (times == 1 ? " time" : " times")
        + ": may borrow again from "
        + Instant.ofEpochMilli(barred)
        + "; admitted at once within GpuQueue "
        + w.queue()
        + "'s nominal quota";
  }

  private static long backoff(int evictions) {
    if (evictions < 2) {
      return 0;
    }
    int doublings = Math.min(evictions - 2, 20);
    return Math.min(
        AdmissionBook.MAX_BORROW_BACKOFF_MILLIS, AdmissionBook.BORROW_BACKOFF_MILLIS << doublings);
  }
}
