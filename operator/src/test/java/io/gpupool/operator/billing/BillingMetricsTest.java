package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.FakeBillingChain;
import io.gpupool.billing.ledger.PairLedger;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BillingMetricsTest {
  private static final String PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
  private static final String PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  private static final PairId PAIR = new PairId("job-1", PAYER, PROVIDER);
  private static final PairId UNBUDGETED = new PairId("job-2", UsageMeter.NO_ADDRESS, PROVIDER);

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final BillingMetrics metrics = new BillingMetrics(registry);

  private double counter(String name, String tag, String value) {
    return registry.get(name).tag(tag, value).counter().count();
  }

  private static PairLedger ledger(PairId pair, long time, String metered, String settled) {
    return new PairLedger(
        pair,
        time,
        TokenUnits.toWei(metered),
        TokenUnits.toWei(settled),
        TokenUnits.toWei(settled),
        null);
  }

  @Test
  void countersExistAtZeroForKnownLabels() {
    metrics.knowProvider("prov-a");
    assertThat(counter("gpupool.metered.gpu.seconds", "provider", "prov-a")).isZero();
    assertThat(counter("gpupool.metered.cost", "provider", "prov-a")).isZero();
    assertThat(counter("gpupool.settled.amount", "provider", "prov-a")).isZero();
    for (String result : List.of("success", "reverted", "failed")) {
      assertThat(counter("gpupool.settlement.transactions", "result", result)).isZero();
    }
    assertThat(counter("gpupool.chain.rpc.errors", "operation", "sendTransaction")).isZero();
  }

  @Test
  void unexpectedSettlementFailuresAreCountedFromZero() {
    // At 0 from the start, so an alert on its increase fires on the first failure.
    assertThat(registry.get("gpupool.settlement.unexpected.failures").counter().count()).isZero();
    metrics.unexpectedSettlementFailure();
    metrics.unexpectedSettlementFailure();
    assertThat(registry.get("gpupool.settlement.unexpected.failures").counter().count())
        .isEqualTo(2.0);
  }

  @Test
  void countersGrowByWhatCumulativeFiguresGrewNeverTwice() {
    Map<String, Map<String, String>> names =
        Map.of("job-1", Map.of(PROVIDER.toLowerCase(), "prov-a"));
    metrics.refresh(List.of(ledger(PAIR, 3_000_000, "0.5", "0")), names);
    metrics.refresh(List.of(ledger(PAIR, 3_000_000, "0.5", "0")), names);
    assertThat(counter("gpupool.metered.gpu.seconds", "provider", "prov-a")).isEqualTo(3.0);
    assertThat(counter("gpupool.metered.cost", "provider", "prov-a")).isEqualTo(0.5);
    assertThat(registry.get("gpupool.settlement.backlog.pairs").gauge().value()).isEqualTo(1.0);
    assertThat(registry.get("gpupool.settlement.backlog.amount").gauge().value()).isEqualTo(0.5);

    metrics.refresh(
        List.of(ledger(PAIR, 5_000_000, "0.75", "0.75"), ledger(UNBUDGETED, 1_000_000, "1", "0")),
        names);
    assertThat(counter("gpupool.metered.gpu.seconds", "provider", "prov-a")).isEqualTo(5.0);
    assertThat(counter("gpupool.metered.cost", "provider", "prov-a")).isEqualTo(0.75);
    assertThat(counter("gpupool.settled.amount", "provider", "prov-a")).isEqualTo(0.75);
    // the unbudgeted pair is never settled, so it is no backlog
    assertThat(registry.get("gpupool.settlement.backlog.pairs").gauge().value()).isZero();
  }

  @Test
  void chainWrapperCountsTransactionsAndRpcErrors() {
    FakeBillingChain fake = new FakeBillingChain();
    fake.deposit(PAYER, TokenUnits.toWei("10"));
    MeteredBillingChain chain = new MeteredBillingChain(fake, metrics, Clock.systemUTC());
    String tx = chain.submitSettlement(List.of(new SettlementItem(PAIR, BigInteger.TEN)));
    assertThat(chain.receipt(tx)).isPresent();
    assertThat(counter("gpupool.settlement.transactions", "result", "success")).isEqualTo(1.0);
    assertThat(registry.get("gpupool.settlement.transaction.duration").timer().count())
        .isEqualTo(1);
    assertThat(registry.find("gpupool.escrow.balance").gauge()).isNull();
    chain.escrow(PAYER);
    assertThat(
            registry
                .get("gpupool.escrow.balance")
                .tag("payer", PAYER.toLowerCase())
                .gauge()
                .value())
        .isCloseTo(10.0, org.assertj.core.data.Offset.offset(1e-9));

    fake.setDown(true);
    assertThatThrownBy(
            () -> chain.submitSettlement(List.of(new SettlementItem(PAIR, BigInteger.TWO))))
        .isInstanceOf(ChainUnavailableException.class);
    assertThatThrownBy(chain::latestBlock).isInstanceOf(ChainUnavailableException.class);
    assertThat(counter("gpupool.settlement.transactions", "result", "failed")).isEqualTo(1.0);
    assertThat(counter("gpupool.chain.rpc.errors", "operation", "sendTransaction")).isEqualTo(1.0);
    assertThat(counter("gpupool.chain.rpc.errors", "operation", "blockNumber")).isEqualTo(1.0);
    assertThat(chain.unreachableSince()).isPresent();
    fake.setDown(false);
    chain.latestBlock();
    assertThat(chain.unreachableSince()).isEmpty();
  }
}
