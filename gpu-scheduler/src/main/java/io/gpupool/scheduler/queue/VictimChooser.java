package io.gpupool.scheduler.queue;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Chooses whom to evict so that a blocked workload fits, losing the least work: lower priority
 * first, then those evicted fewer times before (a fresh re-admission has lost the least work, and
 * would otherwise be the victim every time), then those whose last checkpoint is most recent (least
 * work redone per GPU freed), then larger ones (fewer victims). Victims that turn out unnecessary
 * are spared again.
 */
final class VictimChooser {
  private VictimChooser() {}

  static Comparator<AdmittedWorkload> order(long now) {
    return Comparator.<AdmittedWorkload>comparingInt(a -> a.workload().priority())
        .thenComparingInt(AdmittedWorkload::evictedBefore)
        .thenComparingLong(a -> a.lostMillisPerGpu(now))
        .thenComparing(a -> a.workload().gpus(), Comparator.reverseOrder())
        .thenComparing(AdmittedWorkload::admittedAt, Comparator.reverseOrder())
        .thenComparing(a -> a.workload().id());
  }

  /**
   * @param candidates workloads that may be evicted
   * @param availableWithout GPUs the preemptor could use once the given victims are gone
   * @return the victims, or an empty list when even all candidates would not free enough
   */
  static List<AdmittedWorkload> choose(
      List<AdmittedWorkload> candidates,
      int needed,
      long now,
      ToLongFunction<List<AdmittedWorkload>> availableWithout) {
    List<AdmittedWorkload> sorted = new ArrayList<>(candidates);
    sorted.sort(order(now));
    List<AdmittedWorkload> victims = new ArrayList<>();
    long available = availableWithout.applyAsLong(victims);
    for (AdmittedWorkload candidate : sorted) {
      if (available >= needed) {
        break;
      }
      victims.add(candidate);
      long after = availableWithout.applyAsLong(victims);
      if (after <= available) {
        // Evicting it frees nothing this workload may use (its queue is not over its quota).
        victims.remove(victims.size() - 1);
      } else {
        available = after;
      }
    }
    if (available < needed) {
      return List.of();
    }
    for (int i = victims.size() - 1; i >= 0; i--) {
      AdmittedWorkload spared = victims.remove(i);
      if (availableWithout.applyAsLong(victims) < needed) {
        victims.add(i, spared);
      }
    }
    return victims;
  }
}
