package io.gpupool.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffsTest {
  @Test
  void waitsDoubleFromTheFirstAndStopAtTheLongest() {
    Duration first = Duration.ofMillis(500);
    Duration longest = Duration.ofSeconds(8);
    assertThat(Backoffs.doubling(first, longest, 1)).isEqualTo(Duration.ofMillis(500));
    assertThat(Backoffs.doubling(first, longest, 2)).isEqualTo(Duration.ofSeconds(1));
    assertThat(Backoffs.doubling(first, longest, 5)).isEqualTo(Duration.ofSeconds(8));
    assertThat(Backoffs.doubling(first, longest, 6)).isEqualTo(Duration.ofSeconds(8));
    assertThat(Backoffs.doubling(first, longest, 1_000)).isEqualTo(Duration.ofSeconds(8));
  }
}
