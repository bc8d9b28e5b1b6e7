package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.FakeBillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The attack: a provider proven to cheat on a job keeps being paid for that job's usage metered
 * after its last settlement (its pods run until the rewind deletes them, the job may wait in
 * Verifying meanwhile), because the dispute freezes only what was already paid. Through the real
 * usage record (mock API server), the real settlement loop and a fake chain: after the fraud
 * verdict nothing more of the cheat's pair is sent, the payer is not charged for it, another
 * provider of the same job is still paid, and a restarted operator keeps it so.
 */
@EnableKubernetesMockClient(crud = true)
class ForfeitedUsageIT {
  static final String PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
  static final String CHEAT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  static final String HONEST = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
  static final Instant T0 = Instant.parse("2026-12-06T23:00:00Z");
  static final JobRef JOB = new JobRef("TrainingJob", "team-a", "llm", "uid-llm");
  static final PairId CHEATS_PAIR = new PairId(JOB.uid(), PAYER, CHEAT);
  static final PairId HONEST_PAIR = new PairId(JOB.uid(), PAYER, HONEST);
  static final BigInteger ESCROW = BigInteger.valueOf(1_000_000);

  KubernetesClient client;

  @Test
  void usageMeteredAfterAFraudVerdictIsNeitherPaidToTheCheatNorChargedEvenAfterARestart() {
    FakeBillingChain chain = new FakeBillingChain();
    chain.deposit(PAYER, ESCROW);
    SettlementConfig config = SettlementConfig.defaults().withReceiptTimeout(Duration.ZERO);
    Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
    ConfigMapBillingStore store = new ConfigMapBillingStore(client, "ops");
    store.start();
    meter(store, CHEATS_PAIR, 1_000);
    meter(store, HONEST_PAIR, 500);
    SettlementService settlement = settlementOn(store, chain, clock, config);
    settle(settlement);
    assertThat(paid(chain, CHEATS_PAIR)).isEqualTo(1_000);

    // The referee proves the fraud: the usage is forfeited before the dispute is filed.
    List<Boolean> forfeitedWhenFiled = new ArrayList<>();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    FraudDisputes fraud =
        new FraudDisputes(
            (job, provider, evidence, reason) -> {
              forfeitedWhenFiled.add(store.forfeit(CHEATS_PAIR).isPresent());
              return CompletableFuture.completedFuture(
                  DisputeFiling.opened(BigInteger.valueOf(1_000), "0xopen", "1000 wei frozen"));
            },
            (job, provider, verdict) ->
                CompletableFuture.completedFuture(
                    new DisputeResolution(
                        DisputeResolution.Outcome.RESOLVED, Optional.of("0xverdict"), "fraud")),
            null,
            new UsageForfeiter(
                () -> store,
                name -> Optional.ofNullable(Map.of("bargain", CHEAT, "honest", HONEST).get(name)),
                clock,
                registry));
    FraudDisputes.Outcome outcome =
        fraud
            .prove(JOB, "bargain", EvidenceHash.sha256("replay differs at step 15"), "spot-check")
            .toCompletableFuture()
            .join();
    assertThat(outcome.proven()).isTrue();
    assertThat(forfeitedWhenFiled).containsExactly(true);
    assertThat(outcome.describe()).contains("on bargain", "forfeited: not paid to it, not charged");
    assertThat(registry.counter("gpupool.usage.forfeits", "outcome", "marked").count())
        .isEqualTo(1.0);

    // The cheat's pod ran on until the rewind deleted it; the honest rank runs on.
    meter(store, CHEATS_PAIR, 1_800);
    meter(store, HONEST_PAIR, 900);
    settle(settlement);
    assertThat(paid(chain, CHEATS_PAIR)).isEqualTo(1_000);
    assertThat(paid(chain, HONEST_PAIR)).isEqualTo(900);
    assertThat(chain.escrow(PAYER).balanceWei())
        .isEqualTo(ESCROW.subtract(BigInteger.valueOf(1_900)));
    // Forfeited is not "set aside": nothing alerts, nothing waits to be released.
    assertThat(settlement.outbox().setAside()).isEmpty();
    // The metered figure is kept as metered (the record is not rewritten), just never owed.
    assertThat(store.get(CHEATS_PAIR).orElseThrow().meteredWei())
        .isEqualTo(BigInteger.valueOf(1_800));
    settlement.stop();
    store.close();

    // A restarted operator reads the mark back with the usage record.
    ConfigMapBillingStore after = new ConfigMapBillingStore(client, "ops");
    after.start();
    meter(after, CHEATS_PAIR, 2_500);
    SettlementService resumed =
        settlementOn(after, chain, Clock.fixed(T0.plusSeconds(600), ZoneOffset.UTC), config);
    settle(resumed);
    assertThat(paid(chain, CHEATS_PAIR)).isEqualTo(1_000);
    assertThat(chain.reportsByPair().get(CHEATS_PAIR)).containsExactly(BigInteger.valueOf(1_000));
    assertThat(new BillingLedger(new SettleableStore(after)).payerOutstandingWei(PAYER)).isZero();
    resumed.stop();
    after.close();
  }

  private static SettlementService settlementOn(
      ConfigMapBillingStore store, FakeBillingChain chain, Clock clock, SettlementConfig config) {
    return new SettlementService(
        config, new BillingLedger(new SettleableStore(store)), chain, clock);
  }

  /** Two rounds: the first sends, the second reads the receipts (no waiting in the round). */
  private static void settle(SettlementService settlement) {
    settlement.runOnce();
    settlement.runOnce();
  }

  private static void meter(ConfigMapBillingStore store, PairId pair, long wei) {
    store.update(pair, l -> l.withMetered(wei, BigInteger.valueOf(wei)));
  }

  private static long paid(FakeBillingChain chain, PairId pair) {
    return chain.pairState(pair).paidWei().longValueExact();
  }
}
