package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One incarnation of a replica group as its pods show it: the replica index, the unique group id,
 * the shard pods, whether it is being drained and which spec it runs. Pure.
 */
public record ReplicaGroup(
    int replica, String group, int size, String specHash, boolean draining, List<Pod> pods) {

  /** Groups of the given pods (those being deleted are left out), ordered by replica. */
  public static List<ReplicaGroup> of(List<Pod> pods) {
    Map<String, List<Pod>> byGroup = new TreeMap<>();
    for (Pod p : pods) {
      Map<String, String> l = p.getMetadata().getLabels();
      if (p.getMetadata().getDeletionTimestamp() != null
          || l == null
          || !l.containsKey(InferenceGroup.GROUP_LABEL)) {
        continue;
      }
      byGroup.computeIfAbsent(l.get(InferenceGroup.GROUP_LABEL), g -> new ArrayList<>()).add(p);
    }
    List<ReplicaGroup> out = new ArrayList<>();
    byGroup.forEach(
        (group, members) -> {
          members.sort(Comparator.comparingInt(p -> intLabel(p, InferenceGroup.SHARD_LABEL, 0)));
          Pod first = members.get(0);
          boolean draining =
              members.stream()
                  .anyMatch(
                      p ->
                          "true"
                              .equals(
                                  p.getMetadata().getLabels().get(InferenceGroup.DRAINING_LABEL)));
          out.add(
              new ReplicaGroup(
                  intLabel(first, InferenceGroup.REPLICA_LABEL, 0),
                  group,
                  intLabel(first, InferenceGroup.GROUP_SIZE_LABEL, members.size()),
                  first.getMetadata().getLabels().get(InferenceGroup.SPEC_HASH_LABEL),
                  draining,
                  List.copyOf(members)));
        });
    out.sort(Comparator.comparingInt(ReplicaGroup::replica).thenComparing(ReplicaGroup::group));
    return out;
  }

  /** The leader pod (shard 0), or null when it is gone. */
  public Pod leader() {
    return pods.stream()
        .filter(p -> intLabel(p, InferenceGroup.SHARD_LABEL, -1) == 0)
        .findFirst()
        .orElse(null);
  }

  /** Every shard exists and is Running and Ready. */
  public boolean ready() {
    return pods.size() >= size && pods.stream().allMatch(ReplicaGroup::podReady);
  }

  /** A shard ended (a server never exits on its own) or is missing: the group must be recreated. */
  public String failure() {
    if (pods.size() < size) {
      return (size - pods.size()) + " of " + size + " shard pod(s) missing";
    }
    for (Pod p : pods) {
      String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
      if ("Failed".equals(phase) || "Succeeded".equals(phase)) {
        return "shard pod " + p.getMetadata().getName() + " " + phase.toLowerCase();
      }
    }
    return null;
  }

  /** Running, and Ready (or, without a Ready condition, every container ready). */
  public static boolean podReady(Pod p) {
    if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
      return false;
    }
    List<PodCondition> conditions = p.getStatus().getConditions();
    if (conditions != null) {
      for (PodCondition c : conditions) {
        if ("Ready".equals(c.getType())) {
          return "True".equals(c.getStatus());
        }
      }
    }
    var statuses = p.getStatus().getContainerStatuses();
    return statuses != null
        && !statuses.isEmpty()
        && statuses.stream().allMatch(s -> Boolean.TRUE.equals(s.getReady()));
  }

  static int intLabel(Pod p, String label, int otherwise) {
    String v = p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(label);
    try {
      return v == null ? otherwise : Integer.parseInt(v);
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }
}
