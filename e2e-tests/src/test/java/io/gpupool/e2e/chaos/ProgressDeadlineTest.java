package io.gpupool.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProgressDeadlineTest {
  private static final Instant T0 = Instant.parse("2026-12-06T11:15:00Z");

  @Test
  void aDrainingBacklogIsWaitedForAndAStallIsNot() {
    ProgressDeadline wait = new ProgressDeadline(T0, Duration.ofSeconds(300));
    assertThat(wait.keepWaiting(T0, 16)).isTrue();
    assertThat(wait.keepWaiting(T0.plusSeconds(290), 9)).as("jobs ended: waits on").isTrue();
    assertThat(wait.keepWaiting(T0.plusSeconds(500), 4)).as("past the first 300 s").isTrue();
    assertThat(wait.keepWaiting(T0.plusSeconds(700), 4)).isTrue();
    assertThat(wait.keepWaiting(T0.plusSeconds(800), 4)).as("300 s without progress").isFalse();
  }

  @Test
  void moreOpenJobsAreNoProgress() {
    ProgressDeadline wait = new ProgressDeadline(T0, Duration.ofSeconds(10));
    assertThat(wait.keepWaiting(T0, 3)).isTrue();
    assertThat(wait.keepWaiting(T0.plusSeconds(9), 5)).isTrue();
    assertThat(wait.keepWaiting(T0.plusSeconds(11), 5)).isFalse();
  }
}
