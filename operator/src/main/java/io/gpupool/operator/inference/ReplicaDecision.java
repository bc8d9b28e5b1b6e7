package io.gpupool.operator.inference;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * What to do with an InferenceJob's serving groups, given how many it should have: which to delete
 * at once (not ready), which to drain (ready: they leave the Service first), how many to add, and
 * whether a rolling update surges one extra replica of the new spec. Pure and unit-tested.
 *
 * @param delete groups removed now
 * @param drain groups that leave the Service and are removed after the drain period
 * @param add new groups to place
 * @param surge true when the one group to add is a rolling update's extra replica
 * @param stale groups that run an older spec
 */
public record ReplicaDecision(
    List<ReplicaGroup> delete,
    List<ReplicaGroup> drain,
    int add,
    boolean surge,
    List<ReplicaGroup> stale) {

  /**
   * Scale and roll: never below {@code desired} ready while removing, one replica of the new spec
   * at a time while updating, highest replica indices first when scaling down.
   */
  public static ReplicaDecision decide(List<ReplicaGroup> active, int desired, String specHash) {
    List<ReplicaGroup> stale = active.stream().filter(g -> !specHash.equals(g.specHash())).toList();
    boolean freshSettled =
        active.stream().filter(g -> specHash.equals(g.specHash())).allMatch(ReplicaGroup::ready);
    int add = Math.max(0, desired - active.size());
    boolean surge = false;
    if (!stale.isEmpty() && add == 0 && freshSettled && active.size() == desired) {
      add = 1;
      surge = true;
    }
    List<ReplicaGroup> delete = new ArrayList<>();
    List<ReplicaGroup> drain = new ArrayList<>();
    int excess = active.size() - desired;
    if (excess > 0) {
      int readyNow = (int) active.stream().filter(ReplicaGroup::ready).count();
      for (ReplicaGroup v : victims(active, stale, freshSettled)) {
        if (excess == 0) {
          break;
        }
        if (!v.ready()) {
          delete.add(v);
        } else if (readyNow - 1 >= desired) {
          drain.add(v);
          readyNow--;
        } else {
          continue;
        }
        excess--;
      }
    }
    return new ReplicaDecision(delete, drain, add, surge, stale);
  }

  /** Who goes first: stale groups while updating, else the highest indices; not ready first. */
  private static List<ReplicaGroup> victims(
      List<ReplicaGroup> active, List<ReplicaGroup> stale, boolean freshSettled) {
    List<ReplicaGroup> victims = new ArrayList<>();
    if (!stale.isEmpty()) {
      stale.stream().filter(g -> !g.ready()).forEach(victims::add);
      if (freshSettled) {
        stale.stream().filter(ReplicaGroup::ready).forEach(victims::add);
      }
    } else {
      Comparator<ReplicaGroup> highestFirst =
          Comparator.comparingInt(ReplicaGroup::replica).reversed();
      active.stream().filter(g -> !g.ready()).sorted(highestFirst).forEach(victims::add);
      active.stream().filter(ReplicaGroup::ready).sorted(highestFirst).forEach(victims::add);
    }
    return victims;
  }

  /** Replacing a stale group in place, when no room is left for a surge replica. */
  public record InPlace(ReplicaGroup group, boolean drain) {}

  /**
   * The stale group to replace in place (not ready first): deleted when not ready, drained when the
   * others keep {@code floor} ready; empty when neither is possible now.
   */
  public static Optional<InPlace> inPlace(
      List<ReplicaGroup> stale, List<ReplicaGroup> active, int floor) {
    if (stale.isEmpty()) {
      return Optional.empty();
    }
    int readyNow = (int) active.stream().filter(ReplicaGroup::ready).count();
    ReplicaGroup victim = stale.stream().filter(g -> !g.ready()).findFirst().orElse(stale.get(0));
    if (!victim.ready()) {
      return Optional.of(new InPlace(victim, false));
    }
    if (readyNow - 1 >= floor) {
      return Optional.of(new InPlace(victim, true));
    }
    return Optional.empty();
  }
}
