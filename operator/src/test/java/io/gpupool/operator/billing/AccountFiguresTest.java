package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.BillingAccountStatus;
import io.gpupool.billing.PairId;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.budget.BudgetVerdict;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;

class AccountFiguresTest {
  static final String PAYER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
  static final String OTHER = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";
  static final String PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

  static PairLedger metered(String job, String payer, String tokens) {
    return new PairLedger(
        new PairId(job, payer.toLowerCase(), PROVIDER.toLowerCase()),
        1000,
        TokenUnits.toWei(tokens),
        BigInteger.ZERO,
        BigInteger.ZERO,
        null);
  }

  @Test
  void spentAndJobsCountOnlyThePayersPairs() {
    var running =
        new AccountFigures.JobUsage(
            new JobRef("TrainingJob", "team-a", "pretrain", "u1"),
            List.of(metered("u1", PAYER, "1.5"), metered("u1", PAYER, "0.25")),
            true);
    var finished =
        new AccountFigures.JobUsage(
            new JobRef("InferenceJob", "team-a", "chat", "u2"),
            List.of(metered("u2", PAYER, "2")),
            false);
    var someoneElse =
        new AccountFigures.JobUsage(
            new JobRef("TrainingJob", "team-b", "other", "u3"),
            List.of(metered("u3", OTHER, "9")),
            true);
    BudgetVerdict verdict =
        new BudgetVerdict(
            PAYER,
            TokenUnits.toWei("100"),
            TokenUnits.toWei("3"),
            BigInteger.ZERO,
            BigInteger.ZERO,
            true);

    BillingAccountStatus s =
        AccountFigures.of(PAYER, List.of(running, finished, someoneElse), verdict);

    assertThat(s.spent).isEqualTo("3.75");
    assertThat(s.activeJobs).isEqualTo(1);
    assertThat(s.jobs).containsExactly("TrainingJob/team-a/pretrain");
    assertThat(s.escrow).isEqualTo("100");
    assertThat(s.committed).isEqualTo("3");
    assertThat(
            AccountFigures.same(s, AccountFigures.of(PAYER, List.of(running, finished), verdict)))
        .isTrue();
  }

  @Test
  void withoutTheChainEscrowIsLeftOut() {
    BillingAccountStatus s = AccountFigures.of(PAYER, List.of(), null);
    assertThat(s.spent).isEqualTo("0");
    assertThat(s.activeJobs).isZero();
    assertThat(s.jobs).isNull();
    assertThat(s.escrow).isNull();
  }
}
