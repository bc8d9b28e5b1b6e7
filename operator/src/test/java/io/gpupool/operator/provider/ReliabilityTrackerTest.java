package io.gpupool.operator.provider;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.Reliability;
import io.gpupool.operator.config.ManualClock;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.SharingStrategy;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReliabilityTrackerTest {
  /** A clock the test moves by hand. */
  private static GpuNode node(String name, boolean ready) {
    return new GpuNode(
        name,
        "alice",
        "eu",
        "eu-a",
        "NVIDIA-GeForce-RTX-4090",
        "ada-lovelace",
        8,
        9,
        1,
        24564,
        SharingStrategy.NONE,
        1,
        "nvidia.com/gpu",
        1,
        Map.of(),
        8000,
        1L << 35,
        ready,
        ready ? null : Instant.EPOCH,
        true);
  }

  @Test
  void uptimeIsTheShareOfObservedNodeTimeSpentReady() {
    ManualClock clock = new ManualClock("2026-11-22T00:00:00Z");
    ReliabilityTracker t = new ReliabilityTracker(clock);
    t.observe("n1", node("n1", true));
    t.observe("n2", node("n2", true));
    clock.advance(Duration.ofHours(3));
    t.observe("n2", node("n2", false));
    clock.advance(Duration.ofHours(1));
    Reliability r = t.reliability("alice");
    assertThat(r.observedNodeSeconds).isEqualTo(8 * 3600);
    assertThat(r.uptime).isEqualTo(0.875); // 7 of 8 node-hours
    assertThat(r.failures).isZero();
    assertThat(r.score).isEqualTo(0.875);
  }

  @Test
  void lostNodesLowerTheScoreOncePerOutageAndTheyDecay() {
    ManualClock clock = new ManualClock("2026-11-22T00:00:00Z");
    ReliabilityTracker t = new ReliabilityTracker(clock);
    t.observe("n1", node("n1", true));
    t.nodeLost("n1", "alice");
    t.nodeLost("n1", "alice"); // a second job losing ranks on the same outage
    Reliability r = t.reliability("alice");
    assertThat(r.failures).isEqualTo(1);
    assertThat(r.score).isEqualTo(0.8); // 1 / (1 + 0.25)

    t.observe("n1", node("n1", true)); // back
    t.nodeLost("n1", "alice");
    assertThat(t.reliability("alice").failures).isEqualTo(2);

    clock.advance(Duration.ofDays(10));
    assertThat(t.reliability("alice").score)
        .as("a long clean run restores standing")
        .isGreaterThan(0.99);
    assertThat(t.reliability("alice").failures).isEqualTo(2);
  }

  @Test
  void challengeFailuresLowerTheScoreAndPassesWinItBack() {
    ManualClock clock = new ManualClock("2026-11-22T00:00:00Z");
    ReliabilityTracker t = new ReliabilityTracker(clock);
    t.observe("n1", node("n1", true));
    t.challengePassed("alice");
    assertThat(t.reliability("alice").score).as("a pass never lifts above uptime").isEqualTo(1.0);

    t.challengeFailed("alice");
    assertThat(t.reliability("alice").failures).isEqualTo(1);
    assertThat(t.reliability("alice").score).isEqualTo(0.8); // 1 / (1 + 0.25)

    t.challengePassed("alice"); // half a failure forgiven
    assertThat(t.reliability("alice").score).isEqualTo(0.8889); // 1 / (1 + 0.125)
    t.challengePassed("alice");
    assertThat(t.reliability("alice").score).isEqualTo(1.0);
    assertThat(t.reliability("alice").failures).as("the record keeps the failure").isEqualTo(1);
    t.challengePassed("alice");
    t.challengeFailed("alice");
    assertThat(t.reliability("alice").score)
        .as("passes banked before a failure do not cancel it")
        .isEqualTo(0.8);
  }

  @Test
  void seedingFromStatusSurvivesARestart() {
    ManualClock clock = new ManualClock("2026-11-22T00:00:00Z");
    ReliabilityTracker before = new ReliabilityTracker(clock);
    before.observe("n1", node("n1", true));
    clock.advance(Duration.ofHours(2));
    before.observe("n1", node("n1", false));
    clock.advance(Duration.ofHours(2));
    before.nodeLost("n1", "alice");
    Reliability recorded = before.reliability("alice");

    ReliabilityTracker after = new ReliabilityTracker(clock);
    after.seed("alice", recorded);
    Reliability restored = after.reliability("alice");
    assertThat(restored.failures).isEqualTo(recorded.failures);
    assertThat(restored.uptime).isEqualTo(recorded.uptime);
    assertThat(restored.score)
        .isCloseTo(recorded.score, org.assertj.core.data.Offset.offset(0.001));
  }
}
