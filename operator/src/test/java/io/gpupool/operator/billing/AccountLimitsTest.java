package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.BillingAccountLimits;
import io.gpupool.api.v1alpha1.BillingAccountSpec;
import io.gpupool.api.v1alpha1.BillingAccountStatus;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.Usage;
import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AccountLimitsTest {
  static final Instant START = Instant.parse("2026-12-06T00:00:00Z");

  static BillingAccount account(String perJob, String perPeriod, String period) {
    BillingAccount a = new BillingAccount();
    a.setMetadata(new ObjectMetaBuilder().withName("team-b").build());
    a.setSpec(new BillingAccountSpec());
    a.getSpec().payer = "0x00000000000000000000000000000000000000b0";
    a.getSpec().limits = new BillingAccountLimits();
    a.getSpec().limits.maxCostPerJob = perJob;
    a.getSpec().limits.maxCostPerPeriod = perPeriod;
    a.getSpec().limits.period = period;
    return a;
  }

  static BillingAccount spent(BillingAccount a, String spent, Instant since) {
    a.setStatus(new BillingAccountStatus());
    a.getStatus().spentThisPeriod = spent;
    a.getStatus().periodStart = since.toString();
    return a;
  }

  static Budget maxCost(String cost) {
    Budget b = new Budget();
    b.maxCost = cost;
    return b;
  }

  static Usage cost(String cost) {
    Usage u = new Usage();
    u.cost = cost;
    return u;
  }

  static BigDecimal d(String s) {
    return new BigDecimal(s);
  }

  @Test
  void aJobsOwnCapMustFitUnderThePerJobLimitExactlyAtItIsAllowed() {
    BillingAccount a = account("10", null, null);
    assertThat(AccountLimits.atStart(a, maxCost("10.000"), d("1"), null, START)).isEmpty();
    assertThat(AccountLimits.atStart(a, maxCost("10.000000000000000001"), d("1"), null, START))
        .hasValue(
            "spec.budget.maxCost 10.000000000000000001 exceeds BillingAccount team-b's"
                + " spec.limits.maxCostPerJob 10; lower it to at most that");
  }

  @Test
  void withoutItsOwnCapTheNextIntervalsCostIsWhatMustFit() {
    BillingAccount a = account("0.5", null, null);
    assertThat(AccountLimits.atStart(a, null, d("0.5"), null, START)).isEmpty();
    assertThat(AccountLimits.atStart(a, null, d("0.6"), null, START))
        .get()
        .asString()
        .startsWith("the job's cost for the next settlement interval, 0.6, exceeds");
  }

  @Test
  void aRunningJobStopsWhenItsCostReachesThePerJobLimitAndRunsWhenItIsRaised() {
    BillingAccount a = account("2", null, null);
    assertThat(AccountLimits.whileRunning(a, cost("1.999999999999999999"), START)).isEmpty();
    assertThat(AccountLimits.whileRunning(a, cost("2.000000000000000000"), START))
        .hasValue(
            "cost 2 reached BillingAccount team-b's spec.limits.maxCostPerJob 2; raise it to run"
                + " again");
    assertThat(AccountLimits.atStart(a, null, d("0.1"), cost("2"), START)).isPresent();
    a.getSpec().limits.maxCostPerJob = "3";
    assertThat(AccountLimits.whileRunning(a, cost("2"), START)).isEmpty();
    assertThat(AccountLimits.atStart(a, null, d("0.1"), cost("2"), START)).isEmpty();
  }

  @Test
  void aJobThatWouldPushThePeriodPastItsCapDoesNotStartExactlyToItDoes() {
    BillingAccount a = spent(account(null, "100", "24h"), "99", START);
    Instant now = START.plusSeconds(3600);
    assertThat(AccountLimits.atStart(a, null, d("1"), null, now)).isEmpty();
    String refused = AccountLimits.atStart(a, null, d("1.01"), null, now).orElseThrow();
    assertThat(refused)
        .isEqualTo(
            "the job's cost for the next settlement interval, 1.01, would take BillingAccount"
                + " team-b past its spec.limits.maxCostPerPeriod 100; jobs run again from"
                + " 2026-12-07T00:00:00Z or when it is raised")
        .as("the account's spend is other namespaces' business")
        .doesNotContain("99");
  }

  @Test
  void runningJobsStopAtThePeriodCapAndRunAgainNextPeriodOrWhenRaised() {
    BillingAccount a = spent(account(null, "100", "24h"), "100", START);
    Instant late = START.plusSeconds(24 * 3600 - 1);
    assertThat(AccountLimits.whileRunning(a, cost("5"), late))
        .hasValue(
            "BillingAccount team-b reached its spec.limits.maxCostPerPeriod 100; jobs run again"
                + " from 2026-12-07T00:00:00Z or when it is raised");
    assertThat(AccountLimits.periodCapReached(a, late)).isTrue();
    Instant nextPeriod = START.plusSeconds(24 * 3600);
    assertThat(AccountLimits.whileRunning(a, cost("5"), nextPeriod)).isEmpty();
    assertThat(AccountLimits.atStart(a, null, d("1"), null, nextPeriod)).isEmpty();
    assertThat(AccountLimits.periodCapReached(a, nextPeriod)).isFalse();
    a.getSpec().limits.maxCostPerPeriod = "100.5";
    assertThat(AccountLimits.whileRunning(a, cost("5"), late)).isEmpty();
  }

  @Test
  void noLimitsNeverRefuse() {
    BillingAccount a = account(null, null, null);
    a.getSpec().limits = null;
    assertThat(AccountLimits.atStart(a, maxCost("1000000"), d("1000"), cost("999"), START))
        .isEmpty();
    assertThat(AccountLimits.whileRunning(a, cost("999"), START)).isEmpty();
    assertThat(AccountLimits.periodCapReached(a, START)).isFalse();
  }

  @Test
  void aPeriodCapWithNothingRecordedYetCountsNothingSpent() {
    BillingAccount a = account(null, "1", null);
    assertThat(AccountLimits.atStart(a, null, d("1"), null, START)).isEmpty();
    assertThat(AccountLimits.atStart(a, null, d("1.5"), null, START)).isPresent();
  }
}
