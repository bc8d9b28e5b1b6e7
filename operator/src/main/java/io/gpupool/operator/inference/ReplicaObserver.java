package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.operator.inventory.GpuNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * What is true of an InferenceJob's replica groups now: which failed, which lost their node, which
 * finished draining, which still drain and which serve. Pure: the nodes come in as a lookup, so it
 * is unit-tested without a cluster, as {@code GangObserver} is for training gangs.
 */
public final class ReplicaObserver {
  private ReplicaObserver() {}

  /** A group that must go and be placed again: why, and whether a node was lost. */
  public record Loss(ReplicaGroup group, String why, boolean nodeLost) {}

  /**
   * The groups sorted by what happens to them next.
   *
   * @param recheck when a node's grace period or a drain ends, whichever is first (null: none)
   */
  public record Observation(
      List<Loss> lost,
      List<ReplicaGroup> drained,
      List<ReplicaGroup> draining,
      List<ReplicaGroup> active,
      Duration recheck) {}

  public static Observation observe(
      List<ReplicaGroup> groups,
      Function<String, Optional<GpuNode>> nodes,
      Duration lostGrace,
      Duration drainPeriod,
      Instant now) {
    List<Loss> lost = new ArrayList<>();
    List<ReplicaGroup> drained = new ArrayList<>();
    List<ReplicaGroup> draining = new ArrayList<>();
    List<ReplicaGroup> active = new ArrayList<>();
    Duration[] recheck = {null};
    for (ReplicaGroup g : groups) {
      String failure = g.failure();
      if (failure != null) {
        lost.add(new Loss(g, failure, false));
        continue;
      }
      String gone = lostNode(g, nodes, lostGrace, now, recheck);
      if (gone != null) {
        lost.add(new Loss(g, gone, true));
      } else if (!g.draining()) {
        active.add(g);
      } else {
        Instant due = drainingSince(g, now).plus(drainPeriod);
        if (!now.isBefore(due)) {
          drained.add(g);
        } else {
          draining.add(g);
          earliest(recheck, Duration.between(now, due));
        }
      }
    }
    return new Observation(lost, drained, draining, active, recheck[0]);
  }

  /** Why the group's node counts as lost (deleted, or NotReady past the grace period), or null. */
  private static String lostNode(
      ReplicaGroup g,
      Function<String, Optional<GpuNode>> nodes,
      Duration grace,
      Instant now,
      Duration[] recheck) {
    for (Pod p : g.pods()) {
      String name = p.getSpec().getNodeName();
      Optional<GpuNode> node = nodes.apply(name);
      if (node.isEmpty()) {
        return "node " + name + " is gone";
      }
      GpuNode n = node.get();
      if (!n.ready() && n.notReadySince() != null) {
        Instant due = n.notReadySince().plus(grace);
        if (!now.isBefore(due)) {
          return "node " + name + " NotReady since " + n.notReadySince();
        }
        earliest(recheck, Duration.between(now, due).plusMillis(200));
      }
    }
    return null;
  }

  private static void earliest(Duration[] current, Duration d) {
    if (current[0] == null || d.compareTo(current[0]) < 0) {
      current[0] = d;
    }
  }

  static Instant drainingSince(ReplicaGroup g, Instant otherwise) {
    for (Pod p : g.pods()) {
      var a = p.getMetadata().getAnnotations();
      String v = a == null ? null : a.get(InferenceGroup.DRAINING_SINCE_ANNOTATION);
      if (v != null) {
        try {
          return Instant.parse(v);
        } catch (DateTimeParseException e) {
          return otherwise;
        }
      }
    }
    return otherwise;
  }
}
