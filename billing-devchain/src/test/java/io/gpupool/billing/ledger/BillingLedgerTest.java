package io.gpupool.billing.ledger;

import static io.gpupool.billing.Fixtures.PAYER_A;
import static io.gpupool.billing.Fixtures.PAYER_B;
import static io.gpupool.billing.Fixtures.PROVIDER_X;
import static io.gpupool.billing.Fixtures.pair;
import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.metering.PodLifetime;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class BillingLedgerTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final BigInteger PRICE = BigInteger.valueOf(3_600_000_000_000L); // 1 gwei / GPU-s
  final BillingLedger ledger = new BillingLedger(new InMemoryBillingStore());

  @Test
  void meteredFiguresOnlyGrow() {
    PairId p = pair("j", PAYER_A, PROVIDER_X);
    ledger.record(List.of(PodLifetime.ofGpus("a", p, T0, null, 1, PRICE)), T0.plusSeconds(100));
    // A partial pod list (pod "a" missing) computes less: the stored figure is kept.
    ledger.record(List.of(PodLifetime.ofGpus("b", p, T0, null, 1, PRICE)), T0.plusSeconds(10));
    PairLedger l = ledger.store().get(p).orElseThrow();
    assertThat(l.meteredWei()).isEqualTo(BigInteger.valueOf(100_000_000_000L));
    assertThat(l.pending()).isTrue();
    assertThat(ledger.jobCostWei("j")).isEqualTo(l.meteredWei());
  }

  @Test
  void totalsPerPayerAndProvider() {
    PairId a = pair("j1", PAYER_A, PROVIDER_X);
    PairId b = pair("j2", PAYER_B, PROVIDER_X);
    ledger.record(
        List.of(
            PodLifetime.ofGpus("a", a, T0, T0.plusSeconds(10), 1, PRICE),
            PodLifetime.ofGpus("b", b, T0, T0.plusSeconds(20), 1, PRICE)),
        T0.plusSeconds(30));
    ledger.store().update(a, l -> l.withChain(BigInteger.valueOf(4_000_000_000L), l.meteredWei()));
    assertThat(ledger.payerOutstandingWei(PAYER_A)).isEqualTo(BigInteger.valueOf(6_000_000_000L));
    assertThat(ledger.payerOutstandingWei(PAYER_B)).isEqualTo(BigInteger.valueOf(20_000_000_000L));
    assertThat(ledger.providerEarnedWei(PROVIDER_X.toUpperCase().replace("0X", "0x")))
        .isEqualTo(BigInteger.valueOf(4_000_000_000L));
    assertThat(ledger.store().get(a).orElseThrow().overdrawn()).isTrue();
    assertThat(ledger.pending()).extracting(PairLedger::pair).containsExactly(a, b);
  }
}
