package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Reads a gang's state from its pods and the nodes under them. Pure. */
public final class GangObserver {
  private GangObserver() {}

  /** A node as the observer needs it: absent nodes are not in the map. */
  public record NodeState(boolean ready, Instant notReadySince) {}

  /**
   * @param ranks the current gang's ranks
   * @param podsByRank the current gang's pods, by rank
   * @param nodes state of the nodes in the pool, by name
   */
  public static GangObservation observe(
      List<RankAssignment> ranks,
      Map<Integer, Pod> podsByRank,
      Map<String, NodeState> nodes,
      Duration grace,
      Instant now) {
    Set<String> lostNodes = new TreeSet<>();
    Set<Integer> lostRanks = new TreeSet<>();
    String suspect = null;
    Instant recheck = null;
    for (RankAssignment rank : ranks) {
      NodeState node = nodes.get(rank.node());
      Pod pod = podsByRank.get(rank.rank());
      boolean evicted = pod != null && "NodeLost".equals(reason(pod));
      if (node == null || evicted) {
        lostNodes.add(rank.node());
        lostRanks.add(rank.rank());
      } else if (!node.ready()) {
        Instant since = node.notReadySince() == null ? now : node.notReadySince();
        Instant deadline = since.plus(grace);
        if (!now.isBefore(deadline)) {
          lostNodes.add(rank.node());
          lostRanks.add(rank.rank());
        } else if (recheck == null || deadline.isBefore(recheck)) {
          suspect = rank.node();
          recheck = deadline;
        }
      }
    }
    if (!lostNodes.isEmpty()) {
      return new GangObservation.NodesLost(lostNodes, lostRanks);
    }

    int running = 0;
    int succeeded = 0;
    for (RankAssignment rank : ranks) {
      Pod pod = podsByRank.get(rank.rank());
      if (pod == null) {
        return new GangObservation.RankFailed(
            rank.rank(), null, "rank " + rank.rank() + "'s pod was deleted");
      }
      String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
      if ("Failed".equals(phase)) {
        Integer code = exitCode(pod).orElse(null);
        String why = reason(pod);
        return new GangObservation.RankFailed(
            rank.rank(),
            code,
            "rank "
                + rank.rank()
                + " on "
                + rank.node()
                + " failed"
                + (code == null ? "" : " with exit code " + code)
                + (why == null ? "" : " (" + why + ")"));
      }
      if ("Succeeded".equals(phase)) {
        succeeded++;
      } else if ("Running".equals(phase)) {
        running++;
      }
    }
    if (suspect != null) {
      return new GangObservation.NodeSuspect(suspect, recheck);
    }
    if (succeeded == ranks.size()) {
      return new GangObservation.Succeeded();
    }
    if (running + succeeded == ranks.size()) {
      return new GangObservation.Running();
    }
    return new GangObservation.Starting(running, ranks.size());
  }

  private static String reason(Pod pod) {
    return pod.getStatus() == null ? null : pod.getStatus().getReason();
  }

  private static Optional<Integer> exitCode(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
      ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
      if (t != null && t.getExitCode() != null && t.getExitCode() != 0) {
        return Optional.of(t.getExitCode());
      }
    }
    return Optional.empty();
  }
}
