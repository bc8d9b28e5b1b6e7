package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.BillingAccountStatus;
import io.gpupool.billing.PairId;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PeriodSpendTest {
  static final String PAYER = "0x00000000000000000000000000000000000000B0";
  static final String PROVIDER = "0x00000000000000000000000000000000000000c1";
  static final Instant T0 = Instant.parse("2026-12-06T05:00:00Z");
  static final Duration HOUR = Duration.ofHours(1);

  static PairLedger metered(String job, String tokens) {
    return PairLedger.empty(new PairId(job, PAYER, PROVIDER))
        .withMetered(1, TokenUnits.toWei(tokens));
  }

  static BigInteger wei(String tokens) {
    return TokenUnits.toWei(tokens);
  }

  @Test
  void countsHowMuchEachJobGrewSinceTheLastPassNothingAtTheFirst() {
    PeriodSpend p = new PeriodSpend();
    String payer = PAYER.toLowerCase();
    assertThat(p.advance(Map.of("a", List.of(metered("a", "5"))))).isEmpty();
    assertThat(p.advance(Map.of("a", List.of(metered("a", "7")), "b", List.of(metered("b", "1")))))
        .isEqualTo(Map.of(payer, wei("3")));
    // job a forgotten by the records, b unchanged: nothing more was spent
    assertThat(p.advance(Map.of("b", List.of(metered("b", "1"))))).isEmpty();
  }

  @Test
  void addsUpInThePeriodAndStartsOverInTheNext() {
    PeriodSpend p = new PeriodSpend();
    BillingAccountStatus read = new BillingAccountStatus();
    read.periodStart = T0.toString();
    read.spentThisPeriod = "2";
    BillingAccountStatus out = new BillingAccountStatus();
    p.record("uid", read, HOUR, wei("1"), T0.plusSeconds(60), out);
    assertThat(out.spentThisPeriod).isEqualTo("3");
    assertThat(out.periodStart).isEqualTo(T0.toString());
    // the status read may lag behind what was written: this operator's own figure wins
    p.record("uid", read, HOUR, wei("0.5"), T0.plusSeconds(120), out);
    assertThat(out.spentThisPeriod).isEqualTo("3.5");
    p.record("uid", read, HOUR, wei("0.25"), T0.plus(HOUR).plusSeconds(1), out);
    assertThat(out.spentThisPeriod).isEqualTo("0.25");
    assertThat(out.periodStart).isEqualTo(T0.plus(HOUR).toString());
  }

  @Test
  void anAccountWithoutARecordedPeriodStartsOneNow() {
    BillingAccountStatus out = new BillingAccountStatus();
    new PeriodSpend().record("uid", null, HOUR, BigInteger.ZERO, T0, out);
    assertThat(out.periodStart).isEqualTo(T0.toString());
    assertThat(out.spentThisPeriod).isEqualTo("0");
  }
}
