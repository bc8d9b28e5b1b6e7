package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.BillingAccountLimits;
import io.gpupool.api.v1alpha1.BillingAccountStatus;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SpendingPeriodTest {
  static final Instant T0 = Instant.parse("2026-12-06T05:00:00Z");

  static BillingAccountLimits period(String p) {
    BillingAccountLimits l = new BillingAccountLimits();
    l.period = p;
    return l;
  }

  @Test
  void lengthsInMinutesHoursAndDaysDefaultADay() {
    assertThat(SpendingPeriod.length(period("30m"))).isEqualTo(Duration.ofMinutes(30));
    assertThat(SpendingPeriod.length(period("24h"))).isEqualTo(Duration.ofHours(24));
    assertThat(SpendingPeriod.length(period("7d"))).isEqualTo(Duration.ofDays(7));
    assertThat(SpendingPeriod.length(period(null))).isEqualTo(Duration.ofHours(24));
    assertThat(SpendingPeriod.length(null)).isEqualTo(Duration.ofHours(24));
  }

  @Test
  void periodsFollowEachOtherFromTheRecordedStart() {
    Duration h = Duration.ofHours(1);
    assertThat(SpendingPeriod.start(T0, h, T0)).isEqualTo(T0);
    assertThat(SpendingPeriod.start(T0, h, T0.plus(h).minusMillis(1))).isEqualTo(T0);
    assertThat(SpendingPeriod.start(T0, h, T0.plus(h))).isEqualTo(T0.plus(h));
    assertThat(SpendingPeriod.start(T0, h, T0.plus(Duration.ofMinutes(150))))
        .isEqualTo(T0.plus(Duration.ofHours(2)));
    assertThat(SpendingPeriod.start(null, h, T0)).isEqualTo(T0);
  }

  @Test
  void whatWasSpentCountsOnlyInItsOwnPeriod() {
    BillingAccountStatus s = new BillingAccountStatus();
    s.periodStart = T0.toString();
    s.spentThisPeriod = "7.5";
    Duration h = Duration.ofHours(1);
    assertThat(SpendingPeriod.spent(s, h, T0.plusSeconds(3599))).isEqualByComparingTo("7.5");
    assertThat(SpendingPeriod.spent(s, h, T0.plusSeconds(3600))).isEqualTo(BigDecimal.ZERO);
    assertThat(SpendingPeriod.spent(new BillingAccountStatus(), h, T0)).isEqualTo(BigDecimal.ZERO);
    assertThat(SpendingPeriod.spent(null, h, T0)).isEqualTo(BigDecimal.ZERO);
  }
}
