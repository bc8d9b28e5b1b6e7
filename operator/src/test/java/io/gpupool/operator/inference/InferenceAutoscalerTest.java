package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class InferenceAutoscalerTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private static final Duration WINDOW = Duration.ofSeconds(60);

  @Test
  void scalesUpAtOnceToTheCountThatMeetsTheTarget() {
    var d = Autoscaler.decide(1, 10, 2, List.of(20.0, 20.0), 8, null, T0, WINDOW);
    assertThat(d.reason()).isEqualTo("ScaledUp");
    assertThat(d.desired()).isEqualTo(5); // 40 in flight / 8 per replica
    assertThat(d.scaled()).isTrue();
  }

  @Test
  void neverAboveMax() {
    var d = Autoscaler.decide(1, 4, 1, List.of(400.0), 8, null, T0, WINDOW);
    assertThat(d.desired()).isEqualTo(4);
    var atMax = Autoscaler.decide(1, 4, 4, List.of(50.0, 50.0, 50.0, 50.0), 8, null, T0, WINDOW);
    assertThat(atMax.desired()).isEqualTo(4);
    assertThat(atMax.reason()).isEqualTo("Steady");
  }

  @Test
  void scaleDownWaitsForTheStabilizationWindow() {
    var first = Autoscaler.decide(1, 4, 4, List.of(0.0, 0.0, 0.0, 0.0), 8, null, T0, WINDOW);
    assertThat(first.reason()).isEqualTo("ScaleDownPending");
    assertThat(first.desired()).isEqualTo(4);
    assertThat(first.lowSince()).isEqualTo(T0);

    var still =
        Autoscaler.decide(
            1, 4, 4, List.of(0.0, 0.0, 0.0, 0.0), 8, first.lowSince(), T0.plusSeconds(59), WINDOW);
    assertThat(still.desired()).isEqualTo(4);
    assertThat(still.lowSince()).isEqualTo(T0);

    var done =
        Autoscaler.decide(
            1, 4, 4, List.of(0.0, 0.0, 0.0, 0.0), 8, first.lowSince(), T0.plusSeconds(60), WINDOW);
    assertThat(done.reason()).isEqualTo("ScaledDown");
    assertThat(done.desired()).isEqualTo(1);
    assertThat(done.lowSince()).isNull();
  }

  @Test
  void aLoadSpikeResetsTheWindow() {
    var low = Autoscaler.decide(1, 4, 3, List.of(1.0, 1.0, 1.0), 8, null, T0, WINDOW);
    assertThat(low.lowSince()).isEqualTo(T0);
    var spike =
        Autoscaler.decide(
            1, 4, 3, List.of(8.0, 8.0, 8.0), 8, low.lowSince(), T0.plusSeconds(30), WINDOW);
    assertThat(spike.reason()).isEqualTo("Steady");
    assertThat(spike.lowSince()).isNull();
  }

  @Test
  void hysteresisKeepsAReplicaThatWouldPushTheAverageNearTheTarget() {
    // 3 replicas at 5 each = 15 in flight: on 2 replicas that is 7.5 each, above 0.8 × 8.
    var d = Autoscaler.decide(1, 4, 3, List.of(5.0, 5.0, 5.0), 8, null, T0, Duration.ZERO);
    assertThat(d.desired()).isEqualTo(3);
    assertThat(d.reason()).isEqualTo("Steady");
    // At 4 each (12 in flight) two replicas carry 6 each, within 0.8 × 8: one goes.
    var down = Autoscaler.decide(1, 4, 3, List.of(4.0, 4.0, 4.0), 8, null, T0, Duration.ZERO);
    assertThat(down.desired()).isEqualTo(2);
  }

  @Test
  void neverBelowMinNorBelowOne() {
    var d = Autoscaler.decide(2, 4, 4, List.of(0.0, 0.0), 8, null, T0, Duration.ZERO);
    assertThat(d.desired()).isEqualTo(2);
    var zeroMin = Autoscaler.decide(0, 4, 2, List.of(0.0, 0.0), 8, null, T0, Duration.ZERO);
    assertThat(zeroMin.desired()).isEqualTo(1);
  }

  @Test
  void noSignalChangesNothing() {
    var d = Autoscaler.decide(1, 4, 3, List.of(), 8, T0, T0.plusSeconds(600), WINDOW);
    assertThat(d.desired()).isEqualTo(3);
    assertThat(d.reason()).isEqualTo("NoSignal");
    assertThat(d.lowSince()).isNull();
  }
}
