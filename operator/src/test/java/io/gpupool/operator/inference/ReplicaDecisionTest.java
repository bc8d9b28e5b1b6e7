package io.gpupool.operator.inference;

import static io.gpupool.operator.inference.Groups.group;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicaDecisionTest {
  private static final String NEW = "new";
  private static final String OLD = "old";

  @Test
  void addsWhatIsMissing() {
    var d = ReplicaDecision.decide(List.of(group(0, NEW, "Running", true)), 3, NEW);
    assertThat(d.add()).isEqualTo(2);
    assertThat(d.surge()).isFalse();
    assertThat(d.delete()).isEmpty();
    assertThat(d.drain()).isEmpty();
  }

  @Test
  void scaleDownDeletesNotReadyFirstThenDrainsHighestIndices() {
    var g0 = group(0, NEW, "Running", true);
    var g1 = group(1, NEW, "Running", true);
    var g2 = group(2, NEW, "Pending", false);
    var g3 = group(3, NEW, "Running", true);
    var d = ReplicaDecision.decide(List.of(g0, g1, g2, g3), 2, NEW);
    assertThat(d.delete()).containsExactly(g2);
    assertThat(d.drain()).containsExactly(g3);
    assertThat(d.add()).isZero();
  }

  @Test
  void neverDrainsBelowTheDesiredReadyCount() {
    var g0 = group(0, NEW, "Running", true);
    var g1 = group(1, NEW, "Pending", false);
    var g2 = group(2, NEW, "Pending", false);
    // Desired 2 with one ready: the not-ready one goes, the ready one stays.
    var d = ReplicaDecision.decide(List.of(g0, g1, g2), 2, NEW);
    assertThat(d.delete()).containsExactly(g2);
    assertThat(d.drain()).isEmpty();
  }

  @Test
  void rollingUpdateSurgesOneNewReplicaWhenEverythingIsSettled() {
    var d =
        ReplicaDecision.decide(
            List.of(group(0, OLD, "Running", true), group(1, OLD, "Running", true)), 2, NEW);
    assertThat(d.stale()).hasSize(2);
    assertThat(d.add()).isEqualTo(1);
    assertThat(d.surge()).isTrue();
  }

  @Test
  void rollingUpdateWaitsWhileTheNewReplicaIsNotReady() {
    var d =
        ReplicaDecision.decide(
            List.of(
                group(0, OLD, "Running", true),
                group(1, OLD, "Running", true),
                group(2, NEW, "Pending", false)),
            2,
            NEW);
    assertThat(d.add()).isZero();
    assertThat(d.drain()).isEmpty(); // the new one is not settled: old ready ones stay
    assertThat(d.delete()).isEmpty();
  }

  @Test
  void rollingUpdateRetiresAnOldReplicaOnceTheNewOneIsReady() {
    var old0 = group(0, OLD, "Running", true);
    var d =
        ReplicaDecision.decide(
            List.of(old0, group(1, OLD, "Running", true), group(2, NEW, "Running", true)), 2, NEW);
    assertThat(d.drain()).containsExactly(old0);
  }

  @Test
  void inPlaceDeletesANotReadyStaleGroupAndDrainsAReadyOneOnlyAboveTheFloor() {
    var notReady = group(0, OLD, "Pending", false);
    var ready = group(1, OLD, "Running", true);
    assertThat(ReplicaDecision.inPlace(List.of(ready, notReady), List.of(ready, notReady), 1))
        .hasValueSatisfying(
            p -> {
              assertThat(p.group()).isEqualTo(notReady);
              assertThat(p.drain()).isFalse();
            });
    var other = group(2, NEW, "Running", true);
    assertThat(ReplicaDecision.inPlace(List.of(ready), List.of(ready, other), 1))
        .hasValueSatisfying(p -> assertThat(p.drain()).isTrue());
    assertThat(ReplicaDecision.inPlace(List.of(ready), List.of(ready), 1)).isEmpty();
  }
}
