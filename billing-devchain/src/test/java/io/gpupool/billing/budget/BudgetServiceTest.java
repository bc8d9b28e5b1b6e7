package io.gpupool.billing.budget;

import static io.gpupool.billing.Fixtures.PAYER_A;
import static io.gpupool.billing.Fixtures.PROVIDER_X;
import static io.gpupool.billing.Fixtures.pair;
import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.chain.FakeBillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import java.math.BigInteger;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class BudgetServiceTest {
  final FakeBillingChain chain = new FakeBillingChain();
  final BillingLedger ledger = new BillingLedger(new InMemoryBillingStore());
  final BudgetService budget = new BudgetService(chain, ledger);

  @Test
  void coverageCountsWhatIsAlreadyOwed() {
    chain.deposit(PAYER_A, BigInteger.valueOf(10_000));
    // 3600 wei/hour for 1 hour = 3600
    assertThat(budget.canCover(PAYER_A, BigInteger.valueOf(3600), Duration.ofHours(1)).sufficient())
        .isTrue();
    ledger
        .store()
        .update(pair("j", PAYER_A, PROVIDER_X), l -> l.withMetered(1, BigInteger.valueOf(7_000)));
    BudgetVerdict v = budget.canCover(PAYER_A, BigInteger.valueOf(3600), Duration.ofHours(1));
    assertThat(v.sufficient()).isFalse();
    assertThat(v.outstandingWei()).isEqualTo(BigInteger.valueOf(7_000));
    assertThat(v.requiredWei()).isEqualTo(BigInteger.valueOf(3600));
    assertThat(v.headroomWei()).isEqualTo(BigInteger.valueOf(-600));
  }

  @Test
  void gpuRateFormRoundsTheRequirementUp() {
    chain.deposit(PAYER_A, BigInteger.ONE);
    // 1 GPU at 1 wei/GPU-hour for one second costs 1/3600 wei: rounded up to 1, covered exactly.
    assertThat(budget.canCover(PAYER_A, 1000, BigInteger.ONE, Duration.ofSeconds(1)).sufficient())
        .isTrue();
    assertThat(budget.canCover(PAYER_A, 1000, BigInteger.TWO, Duration.ofHours(1)).sufficient())
        .isFalse();
  }

  @Test
  void dryWhenOutstandingEatsTheEscrow() {
    assertThat(budget.isDry(PAYER_A).sufficient()).isFalse();
    chain.deposit(PAYER_A, BigInteger.valueOf(100));
    assertThat(budget.isDry(PAYER_A).sufficient()).isTrue();
    ledger
        .store()
        .update(pair("j", PAYER_A, PROVIDER_X), l -> l.withMetered(1, BigInteger.valueOf(100)));
    assertThat(budget.isDry(PAYER_A).sufficient()).isFalse();
  }
}
