package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.FakeBillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The settlement outbox on ConfigMaps (mock API server): what one operator process persisted, a new
 * process (a new leader, a restart) reads back whole, and resumes without sending any usage in a
 * second transaction.
 */
@EnableKubernetesMockClient(crud = true)
class ConfigMapOutboxIT {
  static final String PAYER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
  static final String PROVIDER_A = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
  static final String PROVIDER_B = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
  static final Instant T0 = Instant.parse("2026-12-06T04:00:00Z");

  KubernetesClient client;

  @Test
  void anEntryIsReadBackWholeByAnotherProcessAndRemoved() {
    OutboxEntry first =
        OutboxEntry.signed(
            41,
            "0x" + "ab".repeat(32),
            "0xf86b2a",
            BigInteger.valueOf(2_000_000_000L),
            List.of(
                new SettlementItem(new PairId("uid-1", PAYER, PROVIDER_A), BigInteger.TEN),
                new SettlementItem(
                    new PairId("uid-2", PAYER, PROVIDER_B), SettlementItem.MAX_AMOUNT)),
            T0);
    OutboxEntry replaced =
        first
            .sent()
            .replacedBy(
                "0x" + "cd".repeat(32),
                "0xf86b2b",
                BigInteger.valueOf(2_250_000_000L),
                T0.plusSeconds(200));
    new ConfigMapBillingStore(client, "billing").putOutbox(replaced);

    ConfigMapBillingStore other = new ConfigMapBillingStore(client, "billing");
    assertThat(other.outbox()).containsExactly(replaced);
    other.removeOutbox(41);
    assertThat(new ConfigMapBillingStore(client, "billing").outbox()).isEmpty();
    // usage records of the same namespace are not mistaken for outbox entries, nor the reverse
    assertThat(other.all()).isEmpty();
  }

  @Test
  void aNewProcessResumesThePersistedTransactionsInsteadOfSendingNewOnes() {
    FakeBillingChain chain = new FakeBillingChain();
    chain.deposit(PAYER, BigInteger.valueOf(1_000_000));
    SettlementConfig config =
        SettlementConfig.defaults().withBatchSize(1).withReceiptTimeout(Duration.ZERO);
    Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
    List<PairId> pairs =
        List.of(new PairId("uid-a", PAYER, PROVIDER_A), new PairId("uid-b", PAYER, PROVIDER_B));

    ConfigMapBillingStore before = new ConfigMapBillingStore(client, "ops");
    before.start();
    pairs.forEach(p -> before.update(p, l -> l.withMetered(1, BigInteger.valueOf(777))));
    chain.setHoldReceipts(true);
    new SettlementService(config, new BillingLedger(before), chain, clock).runOnce();
    before.close(); // the process is gone; the node then loses its pool
    chain.dropPending();
    chain.setHoldReceipts(false);

    ConfigMapBillingStore after = new ConfigMapBillingStore(client, "ops");
    after.start();
    assertThat(after.outbox()).hasSize(2);
    SettlementService resumed =
        new SettlementService(
            config,
            new BillingLedger(after),
            chain,
            Clock.fixed(T0.plusSeconds(90), ZoneOffset.UTC));
    // the alert's age counts from the first send, not from the restart
    assertThat(resumed.oldestUnconfirmedSince()).contains(T0);
    resumed.runOnce();
    for (PairId p : pairs) {
      PairLedger l = after.get(p).orElseThrow();
      assertThat(l.settledWei()).isEqualTo(BigInteger.valueOf(777));
      assertThat(l.inFlightTx()).isNull();
      assertThat(chain.pairState(p).paidWei()).isEqualTo(BigInteger.valueOf(777));
    }
    assertThat(chain.submittedBatches()).hasSize(2); // the same two transactions, broadcast again
    assertThat(chain.reportsByPair().values()).allSatisfy(v -> assertThat(v).hasSize(1));
    assertThat(after.outbox()).isEmpty();
    assertThat(resumed.oldestUnconfirmedSince()).isEmpty();
    after.close();
  }
}
