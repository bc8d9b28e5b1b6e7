package io.gpupool.operator.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GangObserverTest {
  private static final Instant NOW = Instant.parse("2026-11-22T10:00:00Z");
  private static final Duration GRACE = Duration.ofSeconds(60);
  private static final List<RankAssignment> RANKS =
      List.of(
          new RankAssignment(0, "n0", "p", "eu", "g", 1, "nvidia.com/gpu", -1, -1, -1, 0.5),
          new RankAssignment(1, "n1", "p", "eu", "g", 1, "nvidia.com/gpu", -1, -1, -1, 0.5));

  private static Pod pod(String phase, Integer exitCode, String reason) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName("x")
            .endMetadata()
            .withNewStatus()
            .withPhase(phase)
            .withReason(reason)
            .endStatus();
    Pod pod = b.build();
    if (exitCode != null) {
      pod.getStatus()
          .setContainerStatuses(
              List.of(
                  new io.fabric8.kubernetes.api.model.ContainerStatusBuilder()
                      .withName("worker")
                      .withNewState()
                      .withNewTerminated()
                      .withExitCode(exitCode)
                      .endTerminated()
                      .endState()
                      .build()));
    }
    return pod;
  }

  private static Map<String, GangObserver.NodeState> healthy() {
    Map<String, GangObserver.NodeState> nodes = new HashMap<>();
    nodes.put("n0", new GangObserver.NodeState(true, null));
    nodes.put("n1", new GangObserver.NodeState(true, null));
    return nodes;
  }

  private static GangObservation observe(
      Pod p0, Pod p1, Map<String, GangObserver.NodeState> nodes) {
    Map<Integer, Pod> pods = new HashMap<>();
    if (p0 != null) pods.put(0, p0);
    if (p1 != null) pods.put(1, p1);
    return GangObserver.observe(RANKS, pods, nodes, GRACE, NOW);
  }

  @Test
  void phasesOfAHealthyGang() {
    assertThat(observe(pod("Pending", null, null), pod("Running", null, null), healthy()))
        .isEqualTo(new GangObservation.Starting(1, 2));
    assertThat(observe(pod("Running", null, null), pod("Running", null, null), healthy()))
        .isInstanceOf(GangObservation.Running.class);
    assertThat(observe(pod("Succeeded", null, null), pod("Succeeded", null, null), healthy()))
        .isInstanceOf(GangObservation.Succeeded.class);
    assertThat(observe(pod("Succeeded", null, null), pod("Running", null, null), healthy()))
        .as("one rank done, the other still working")
        .isInstanceOf(GangObservation.Running.class);
  }

  @Test
  void failedContainerReportsRankAndExitCode() {
    GangObservation o = observe(pod("Running", null, null), pod("Failed", 137, "Error"), healthy());
    assertThat(o).isInstanceOf(GangObservation.RankFailed.class);
    GangObservation.RankFailed f = (GangObservation.RankFailed) o;
    assertThat(f.rank()).isEqualTo(1);
    assertThat(f.exitCode()).isEqualTo(137);
    assertThat(f.what()).contains("rank 1 on n1 failed with exit code 137");
  }

  @Test
  void deletedPodIsAFailureWithUnknownExitCode() {
    GangObservation o = observe(pod("Running", null, null), null, healthy());
    assertThat(o).isEqualTo(new GangObservation.RankFailed(1, null, "rank 1's pod was deleted"));
  }

  @Test
  void nodeNotReadyInsideGraceIsOnlySuspect() {
    Map<String, GangObserver.NodeState> nodes = healthy();
    nodes.put("n1", new GangObserver.NodeState(false, NOW.minusSeconds(20)));
    GangObservation o = observe(pod("Running", null, null), pod("Running", null, null), nodes);
    assertThat(o).isEqualTo(new GangObservation.NodeSuspect("n1", NOW.plusSeconds(40)));
  }

  @Test
  void nodeNotReadyPastGraceOrGoneIsLost() {
    Map<String, GangObserver.NodeState> nodes = healthy();
    nodes.put("n1", new GangObserver.NodeState(false, NOW.minusSeconds(61)));
    assertThat(observe(pod("Running", null, null), pod("Running", null, null), nodes))
        .isEqualTo(new GangObservation.NodesLost(java.util.Set.of("n1"), java.util.Set.of(1)));
    Map<String, GangObserver.NodeState> gone = healthy();
    gone.remove("n0");
    assertThat(observe(pod("Running", null, null), pod("Running", null, null), gone))
        .isEqualTo(new GangObservation.NodesLost(java.util.Set.of("n0"), java.util.Set.of(0)));
  }

  @Test
  void podEvictedForNodeLossCountsAsNodeLoss() {
    assertThat(observe(pod("Failed", null, "NodeLost"), pod("Running", null, null), healthy()))
        .isEqualTo(new GangObservation.NodesLost(java.util.Set.of("n0"), java.util.Set.of(0)));
  }
}
