package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class ChallengeBudgetTest {
  static final Instant T0 = Instant.parse("2026-12-06T04:00:00Z");

  @Test
  void spendingOlderThanAnHourStopsCountingEvenWhenRecordedOutOfOrder() {
    // 1 GPU at 10 %: 360 GPU-seconds an hour
    ChallengeBudget budget = new ChallengeBudget(0.1);
    budget.spend(T0.plusSeconds(3000), 100);
    // restored from a provider's status after a restart: older than what was spent since
    budget.spend(T0, 300);
    assertThat(budget.allows(T0.plusSeconds(3000), 1, 1)).as("400 spent").isFalse();
    assertThat(budget.allows(T0.plusSeconds(3700), 1, 200))
        .as("the restored 300 left the hour although recorded last")
        .isTrue();
  }
}
