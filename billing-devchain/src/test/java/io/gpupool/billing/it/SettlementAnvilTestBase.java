package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.metering.PodLifetime;
import io.gpupool.billing.settlement.Backoff;
import io.gpupool.billing.settlement.RoundResult;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The settlement loop over one metered ledger against anvil: eight (job, payer, provider) pairs
 * with awkward durations, milli-GPU counts and prices, and the check every settlement IT ends on.
 */
abstract class SettlementAnvilTestBase extends AnvilTestBase {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  // an awkward price: 1.234567 ETH-millis per GPU-hour
  static final BigInteger PRICE = new BigInteger("1234567000000000");

  /**
   * Small batches (eight pairs make three transactions), no backoff between rounds, and the hourly
   * recheck out of the way: the settings of the ITs that break the chain under the loop.
   */
  static final SettlementConfig FAST_ROUNDS =
      SettlementConfig.defaults()
          .withBatchSize(3)
          .withReceiptTimeout(Duration.ofSeconds(5))
          .withBackoff(new Backoff(Duration.ZERO, Duration.ZERO, 1, 0))
          .withRecheckInterval(Duration.ofHours(1));

  final InMemoryBillingStore store = new InMemoryBillingStore();
  final BillingLedger ledger = new BillingLedger(store);

  /** The namespace of the jobs, so two test classes' pairs never share an id on one chain. */
  abstract String jobNamespace();

  List<PairId> pairs() {
    List<PairId> out = new ArrayList<>();
    for (int job = 0; job < 4; job++) {
      for (int prov = 0; prov < 2; prov++) {
        out.add(
            new PairId(
                jobNamespace() + "/job-" + job, payerAddress(job % 2), providerAddress(prov)));
      }
    }
    return out;
  }

  /** Meter one pod per pair with awkward durations and milli-GPU counts. */
  void meterPods(Duration runFor) {
    List<PodLifetime> pods = new ArrayList<>();
    int i = 0;
    for (PairId p : pairs()) {
      i++;
      pods.add(
          new PodLifetime("pod-" + i, p, T0, null, 250L * i, PRICE.add(BigInteger.valueOf(i))));
    }
    ledger.record(pods, T0.plus(runFor).plusMillis(123));
  }

  /** Run rounds until nothing is pending, at most {@code rounds}; the last round's result. */
  RoundResult runUntilSettled(SettlementService s, int rounds) {
    RoundResult r = null;
    for (int i = 0; i < rounds && (r == null || !ledger.pending().isEmpty()); i++) {
      r = s.runOnce();
    }
    return r;
  }

  SettlementService service(BillingChain chain, SettlementConfig c) {
    return new SettlementService(c.withReconcileFromBlock(0), ledger, chain, Clock.systemUTC());
  }

  /**
   * Every pair is settled and every provider's balance equals what was metered for it, to the wei.
   */
  void assertProvidersPaidExactlyTheMeteredAmounts(BillingChain chain) {
    for (PairLedger l : store.all()) {
      assertThat(l.pending()).as("%s pending", l.pair()).isFalse();
      assertThat(chain.pairState(l.pair()).paidWei()).isEqualTo(l.meteredWei());
    }
    for (int prov = 0; prov < 2; prov++) {
      String provider = providerAddress(prov);
      assertThat(chain.providerBalance(provider))
          .as("provider %d balance", prov)
          .isEqualTo(ledger.providerEarnedWei(provider))
          .isPositive();
    }
  }
}
