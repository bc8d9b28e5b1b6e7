package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.budget.BudgetService;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.BroadcastResult;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.EscrowState;
import io.gpupool.billing.chain.PairEvent;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.settlement.Backoff;
import io.gpupool.billing.settlement.RoundResult;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The settlement loop against a real chain (anvil), every failure path included. */
class SettlementAnvilIT extends SettlementAnvilTestBase {
  final SettlementConfig config =
      SettlementConfig.defaults()
          .withBatchSize(3)
          .withReceiptTimeout(Duration.ofSeconds(10))
          .withBackoff(new Backoff(Duration.ZERO, Duration.ZERO, 1, 0));

  @Override
  String jobNamespace() {
    return "ns";
  }

  void assertChainPaidExactlyTheMeteredCost(BillingChain chain) {
    assertProvidersPaidExactlyTheMeteredAmounts(chain);
    BigInteger metered =
        store.all().stream().map(PairLedger::meteredWei).reduce(BigInteger.ZERO, BigInteger::add);
    java.util.Map<String, BigInteger> lastPaidByPair = new java.util.HashMap<>();
    for (PairEvent e : chain.pairEvents(0)) {
      if (e.kind() == PairEvent.Kind.SETTLED) {
        lastPaidByPair.merge(
            e.jobIdHash() + e.payer() + e.provider(), e.paidTotal(), BigInteger::max);
      }
    }
    BigInteger paidEvents =
        lastPaidByPair.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
    assertThat(paidEvents).as("sum of final Settled.paidTotal").isEqualTo(metered);
  }

  @Test
  void meteredCostIsPaidExactlyAcrossRounds() {
    fund(0, ETH);
    fund(1, ETH);
    Web3jBillingChain chain = reporterChain();
    SettlementService s = service(chain, config);
    meterPods(Duration.ofSeconds(3723));
    RoundResult r1 = s.runOnce();
    assertThat(r1.errors()).isEmpty();
    assertThat(r1.batchesSent()).isEqualTo(3); // 8 pairs in batches of 3
    meterPods(Duration.ofSeconds(7300)); // the pods ran on: cumulative figures grow
    RoundResult r2 = s.runOnce();
    assertThat(r2.errors()).isEmpty();
    assertThat(r2.pairsConfirmed()).isEqualTo(8);
    assertChainPaidExactlyTheMeteredCost(chain);
    assertThat(s.runOnce().batchesSent()).isZero();
  }

  @Test
  void rpcDownMidBatchDelaysButNeitherLosesNorDuplicates() throws Exception {
    fund(0, ETH);
    fund(1, ETH);
    LoopbackProxy proxy = new LoopbackProxy(dev.anvil().port());
    closeAfter.add(proxy);
    ChainConfig viaProxy =
        new ChainConfig(
            proxy.url(),
            contract,
            dev.chainId(),
            config().gasPolicy(),
            130,
            Duration.ofSeconds(2),
            5_000);
    Web3jBillingChain real = new Web3jBillingChain(viaProxy, dev.reporter());
    closeAfter.add(real);
    BillingChain goesDownAfterFirstSend =
        new DelegatingChain(real) {
          int sent;

          @Override
          public BroadcastResult broadcast(String rawTx) {
            BroadcastResult r = super.broadcast(rawTx);
            if (++sent == 1) {
              proxy.setDown(true);
            }
            return r;
          }
        };
    meterPods(Duration.ofSeconds(999));
    SettlementService s = service(goesDownAfterFirstSend, config);
    s.reconcile();
    RoundResult r1 = s.runOnce();
    assertThat(r1.batchesSent()).isEqualTo(1);
    assertThat(r1.errors()).anyMatch(e -> e.contains("RPC unavailable"));
    assertThat(ledger.pending()).hasSize(8);
    RoundResult stillDown = s.runOnce();
    assertThat(stillDown.batchesSent()).isZero();
    proxy.setDown(false);
    RoundResult r2 = s.runOnce();
    assertThat(r2.errors()).isEmpty();
    assertThat(r2.batchesSent()).isEqualTo(2); // the first batch was in flight, not resent
    assertChainPaidExactlyTheMeteredCost(real);
  }

  @Test
  void operatorRestartBetweenSendAndReceipt() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(500));
    rpc("evm_setAutomine", false);
    SettlementService first = service(reporterChain(), config.withReceiptTimeout(Duration.ZERO));
    RoundResult sent = first.runOnce();
    assertThat(sent.batchesSent()).isEqualTo(3);
    assertThat(store.all()).allMatch(l -> l.inFlightTx() != null);
    // crash: the first service is gone. A new process with a new client starts before mining.
    Web3jBillingChain chain2 = reporterChain();
    SettlementService second = service(chain2, config.withReceiptTimeout(Duration.ofMillis(300)));
    RoundResult whilePending = second.runOnce();
    assertThat(whilePending.batchesSent()).isZero(); // known, pending: not resent
    assertThat(store.all()).allMatch(l -> l.inFlightTx() != null);
    rpc("evm_mine");
    RoundResult after = second.runOnce();
    assertThat(after.pairsConfirmed()).isEqualTo(8);
    assertChainPaidExactlyTheMeteredCost(chain2);
  }

  @Test
  void restartAfterReceiptReconcilesFromEvents() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(500));
    Web3jBillingChain chain = reporterChain();
    service(chain, config).runOnce();
    // the operator's store is restored from an old snapshot: no settled cursors
    InMemoryBillingStore restored = new InMemoryBillingStore();
    for (PairLedger l : store.all()) {
      restored.update(l.pair(), x -> x.withMetered(l.milliGpuMillis(), l.meteredWei()));
    }
    BillingLedger ledger2 = new BillingLedger(restored);
    SettlementService s2 = new SettlementService(config, ledger2, chain, Clock.systemUTC());
    assertThat(s2.reconcile().pairsCorrected()).isEqualTo(8);
    assertThat(ledger2.pending()).isEmpty();
    assertThat(s2.runOnce().batchesSent()).isZero();
  }

  @Test
  void duplicateSubmissionPaysOnce() {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    PairId p = new PairId("ns/dup", payerAddress(0), providerAddress(0));
    List<SettlementItem> batch =
        List.of(new SettlementItem(p, GWEI.multiply(BigInteger.valueOf(77))));
    SettlementReceipt first = waitFor(chain, chain.submitSettlement(batch));
    SettlementReceipt second = waitFor(chain, chain.submitSettlement(batch));
    assertThat(first.events()).hasSize(1);
    assertThat(second.success()).isTrue();
    assertThat(second.events()).isEmpty();
    assertThat(chain.providerBalance(providerAddress(0)))
        .isEqualTo(GWEI.multiply(BigInteger.valueOf(77)));
  }

  @Test
  void replayedOlderSettlementPaysNothing() {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    PairId p = new PairId("ns/replay", payerAddress(0), providerAddress(0));
    waitFor(chain, chain.submitSettlement(List.of(new SettlementItem(p, BigInteger.valueOf(500)))));
    waitFor(chain, chain.submitSettlement(List.of(new SettlementItem(p, BigInteger.valueOf(900)))));
    SettlementReceipt replay =
        waitFor(
            chain, chain.submitSettlement(List.of(new SettlementItem(p, BigInteger.valueOf(500)))));
    assertThat(replay.events()).isEmpty();
    assertThat(chain.pairState(p))
        .isEqualTo(new PairOnChain(BigInteger.valueOf(900), BigInteger.valueOf(900)));
    assertThat(chain.providerBalance(providerAddress(0))).isEqualTo(BigInteger.valueOf(900));
  }

  @Test
  void overdrawnEscrowPaysWhatIsThereAndCatchesUpAfterTopUp() {
    fund(0, BigInteger.valueOf(1_000_000));
    Web3jBillingChain chain = reporterChain();
    BudgetService budget = new BudgetService(chain, ledger);
    PairId p = new PairId("ns/big", payerAddress(0), providerAddress(1));
    store.update(p, l -> l.withMetered(1, BigInteger.valueOf(1_500_000)));
    assertThat(budget.isDry(payerAddress(0)).sufficient()).isFalse();
    SettlementService s = service(chain, config);
    s.runOnce();
    PairLedger l = store.get(p).orElseThrow();
    assertThat(l.settledWei()).isEqualTo(BigInteger.valueOf(1_000_000));
    assertThat(l.chainOwedWei()).isEqualTo(BigInteger.valueOf(1_500_000));
    assertThat(chain.pairEvents(0))
        .anyMatch(
            e ->
                e.kind() == PairEvent.Kind.OVERDRAWN
                    && e.owedTotal().equals(BigInteger.valueOf(1_500_000)));
    assertThat(chain.escrow(payerAddress(0)).balanceWei()).isZero();
    assertThat(s.runOnce().batchesSent()).isZero(); // dry payer skipped, no gas wasted
    assertThat(budget.canCover(payerAddress(0), BigInteger.ONE, Duration.ofHours(1)).sufficient())
        .isFalse();
    fund(0, BigInteger.valueOf(2_000_000));
    s.runOnce();
    assertThat(store.get(p).orElseThrow().settledWei()).isEqualTo(BigInteger.valueOf(1_500_000));
    assertThat(chain.providerBalance(providerAddress(1))).isEqualTo(BigInteger.valueOf(1_500_000));
    assertThat(
            budget
                .canCover(payerAddress(0), BigInteger.valueOf(2_400_000), Duration.ofMinutes(30))
                .sufficient())
        .isTrue();
  }

  @Test
  void unauthorisedReporterIsRejectedWithADecodedError() {
    fund(0, ETH);
    Web3jBillingChain impostor = new Web3jBillingChain(config(), dev.provider(0));
    closeAfter.add(impostor);
    PairId p = new PairId("ns/x", payerAddress(0), providerAddress(0));
    assertThatThrownBy(
            () -> impostor.submitSettlement(List.of(new SettlementItem(p, BigInteger.TEN))))
        .isInstanceOfSatisfying(
            ChainRevertException.class,
            e ->
                assertThat(e.error().toString())
                    .isEqualTo("NotReporter(" + providerAddress(0).toLowerCase() + ")"));
    SettlementService s = service(impostor, config);
    store.update(p, l -> l.withMetered(1, BigInteger.TEN));
    RoundResult r = s.runOnce();
    assertThat(r.errors()).anyMatch(e -> e.contains("NotReporter"));
    assertThat(s.outbox().attempts(p)).isEqualTo(1);
  }

  @Test
  void nonceIsManagedLocallyAndResynchronisedAfterOutsideUse() {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    rpc("evm_setAutomine", false);
    PairId a = new PairId("ns/n1", payerAddress(0), providerAddress(0));
    PairId b = new PairId("ns/n2", payerAddress(0), providerAddress(0));
    String t1 = chain.submitSettlement(List.of(new SettlementItem(a, BigInteger.TEN)));
    String t2 = chain.submitSettlement(List.of(new SettlementItem(b, BigInteger.TEN)));
    assertThat(chain.receipt(t1)).isEmpty();
    rpc("evm_mine");
    assertThat(chain.receipt(t1).orElseThrow().success()).isTrue();
    assertThat(chain.receipt(t2).orElseThrow().success()).isTrue();
    rpc("evm_setAutomine", true);
    // someone else uses the reporter key: the cached nonce is now stale
    deployer().depositFor(contract, dev.reporter(), payerAddress(0), BigInteger.ONE);
    String t3 = chain.submitSettlement(List.of(new SettlementItem(a, BigInteger.valueOf(20))));
    assertThat(waitFor(chain, t3).success()).isTrue();
    assertThat(chain.pairState(a).paidWei()).isEqualTo(BigInteger.valueOf(20));
  }

  @Test
  void stuckTransactionIsReplacedWithTheSameNonceAndAHigherGasPrice() throws Exception {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    rpc("evm_setAutomine", false);
    PairId p = new PairId("ns/stuck", payerAddress(0), providerAddress(0));
    store.update(p, l -> l.withMetered(1, BigInteger.valueOf(4242)));
    SettlementService s =
        service(chain, config.withReceiptTimeout(Duration.ZERO).withStuckAfter(Duration.ZERO));
    s.runOnce();
    String first = store.get(p).orElseThrow().inFlightTx();
    var firstTx = dev.web3j().ethGetTransactionByHash(first).send().getTransaction().orElseThrow();
    s.runOnce(); // still pending past stuckAfter: replaced
    String second = store.get(p).orElseThrow().inFlightTx();
    assertThat(second).isNotEqualTo(first);
    var secondTx =
        dev.web3j().ethGetTransactionByHash(second).send().getTransaction().orElseThrow();
    assertThat(secondTx.getNonce()).isEqualTo(firstTx.getNonce());
    assertThat(secondTx.getGasPrice()).isGreaterThan(firstTx.getGasPrice());
    rpc("evm_mine");
    s.runOnce();
    assertThat(chain.receipt(second)).isPresent();
    assertThat(chain.receipt(first)).isEmpty();
    assertThat(store.get(p).orElseThrow().settledWei()).isEqualTo(BigInteger.valueOf(4242));
    assertThat(chain.providerBalance(providerAddress(0))).isEqualTo(BigInteger.valueOf(4242));
  }

  @Test
  void escrowViewMatchesDeposits() {
    fund(1, BigInteger.valueOf(12345));
    EscrowState e = reporterChain().escrow(payerAddress(1));
    assertThat(e.balanceWei()).isEqualTo(BigInteger.valueOf(12345));
    assertThat(e.thawingWei()).isZero();
  }

  static SettlementReceipt waitFor(BillingChain chain, String tx) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      Optional<SettlementReceipt> r = chain.receipt(tx);
      if (r.isPresent()) {
        return r.get();
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("no receipt for " + tx);
  }
}
