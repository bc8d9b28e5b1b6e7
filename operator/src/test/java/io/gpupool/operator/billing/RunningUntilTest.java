package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RunningUntilTest {

  @Test
  void aRunningPodIsChargedToTheLastWholeSecondASecondAgo() {
    assertThat(UsageMeter.runningUntil(Instant.parse("2026-01-01T12:00:03.456Z")))
        .isEqualTo(Instant.parse("2026-01-01T12:00:02Z"));
    assertThat(UsageMeter.runningUntil(Instant.parse("2026-01-01T12:00:03Z")))
        .isEqualTo(Instant.parse("2026-01-01T12:00:02Z"));
  }

  @Test
  void neverPastTheFinishedAtTheKubeletReportsWhenTheViewTrailsByLessThanTheLag() {
    Random random = new Random(42);
    Instant base = Instant.parse("2026-01-01T00:00:00Z");
    for (int i = 0; i < 100_000; i++) {
      Instant finished = base.plusMillis(random.nextInt(10_000_000));
      // the operator still saw the pod running up to lag after it really finished
      Instant seen = finished.plusMillis(random.nextInt((int) UsageMeter.VIEW_LAG.toMillis()));
      Instant reported = finished.truncatedTo(ChronoUnit.SECONDS); // finishedAt, whole seconds
      assertThat(UsageMeter.runningUntil(seen)).isBeforeOrEqualTo(reported);
    }
  }
}
