package io.gpupool.billing.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  final Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30), 2.0, 0.5);

  @Test
  void growsExponentiallyUpToTheCap() {
    assertThat(backoff.delay(1, () -> 0.0)).isEqualTo(Duration.ofSeconds(1));
    assertThat(backoff.delay(2, () -> 0.0)).isEqualTo(Duration.ofSeconds(2));
    assertThat(backoff.delay(5, () -> 0.0)).isEqualTo(Duration.ofSeconds(16));
    assertThat(backoff.delay(6, () -> 0.0)).isEqualTo(Duration.ofSeconds(30));
    assertThat(backoff.delay(60, () -> 0.0)).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void jitterOnlyShortensWithinItsFraction() {
    assertThat(backoff.delay(3, () -> 0.999))
        .isBetween(Duration.ofMillis(2000), Duration.ofSeconds(4));
    assertThat(backoff.delay(3, () -> 0.5)).isEqualTo(Duration.ofSeconds(3));
  }

  @Test
  void rejectsNonsense() {
    assertThatThrownBy(() -> backoff.delay(0, () -> 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(2), 0.5, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(2), 2, 1.0))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
