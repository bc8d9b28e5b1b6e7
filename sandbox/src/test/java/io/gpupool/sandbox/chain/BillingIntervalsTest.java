package io.gpupool.sandbox.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BillingIntervalsTest {

  @Test
  void productionDefaultsAreDividedByTheTimeScale() {
    BillingIntervals i = BillingIntervals.forTimeScale(20);
    assertThat(i.settlement()).isEqualTo(Duration.ofSeconds(3));
    assertThat(i.metering()).isEqualTo(Duration.ofMillis(1500));
    assertThat(i.suspendGrace()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void wallClockSandboxStillSettlesWithinSeconds() {
    BillingIntervals i = BillingIntervals.forTimeScale(1);
    assertThat(i.settlement()).isEqualTo(Duration.ofSeconds(10));
    assertThat(i.metering()).isEqualTo(Duration.ofSeconds(5));
    assertThat(i.suspendGrace()).isEqualTo(Duration.ofMinutes(2));
  }

  @Test
  void fastSandboxesHitTheFloors() {
    BillingIntervals i = BillingIntervals.forTimeScale(1000);
    assertThat(i.settlement()).isEqualTo(Duration.ofSeconds(1));
    assertThat(i.metering()).isEqualTo(Duration.ofMillis(500));
    assertThat(i.suspendGrace()).isEqualTo(Duration.ofSeconds(5));
  }

  @Test
  void meteringNeverSlowerThanSettlement() {
    for (double scale : new double[] {0.1, 0.5, 1, 3, 7, 20, 60, 1e6}) {
      BillingIntervals i = BillingIntervals.forTimeScale(scale);
      assertThat(i.metering()).isLessThanOrEqualTo(i.settlement());
      assertThat(i.settlement()).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(10));
    }
  }

  @Test
  void nonPositiveScaleIsRefused() {
    assertThatThrownBy(() -> BillingIntervals.forTimeScale(0))
        .hasMessageContaining("time scale must be positive");
    assertThatThrownBy(() -> BillingIntervals.forTimeScale(Double.NaN))
        .hasMessageContaining("time scale must be positive");
  }
}
