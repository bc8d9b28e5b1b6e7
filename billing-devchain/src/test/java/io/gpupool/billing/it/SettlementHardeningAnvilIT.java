package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.GasPricePolicy;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.settlement.RoundResult;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.math.BigInteger;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The settlement loop against anvil when the chain misbehaves: a dropped transaction, a
 * reorganisation, confirmation depth, a poison pair beside healthy ones, a gas price above the cap.
 * Each ends with every provider's on-chain balance equal to the metered amounts, to the wei.
 */
class SettlementHardeningAnvilIT extends SettlementAnvilTestBase {
  final SettlementConfig config = FAST_ROUNDS;

  @Override
  String jobNamespace() {
    return "hard";
  }

  @Test
  void aDroppedTransactionIsResentAndTheOnesBehindItAreNotStuck() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(900));
    Web3jBillingChain chain = reporterChain();
    rpc("evm_setAutomine", false);
    SettlementService s = service(chain, config.withReceiptTimeout(Duration.ZERO));
    assertThat(s.runOnce().batchesSent()).isEqualTo(3);
    // the node forgets the first of the three (lowest nonce): the other two now wait behind it
    String lowest = lowestNonceInFlight(chain);
    rpc("anvil_dropTransaction", lowest);
    rpc("evm_mine");
    assertThat(chain.isKnown(lowest)).isFalse();
    rpc("evm_setAutomine", true);
    runUntilSettled(service(chain, config), 4);
    assertProvidersPaidExactlyTheMeteredAmounts(chain);
  }

  private String lowestNonceInFlight(Web3jBillingChain chain) {
    String best = null;
    BigInteger bestNonce = null;
    for (PairLedger l : store.all()) {
      try {
        var tx = chain.web3j().ethGetTransactionByHash(l.inFlightTx()).send().getTransaction();
        BigInteger n = tx.orElseThrow().getNonce();
        if (bestNonce == null || n.compareTo(bestNonce) < 0) {
          bestNonce = n;
          best = l.inFlightTx();
        }
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
    }
    return best;
  }

  @Test
  void anOperatorRestartedWithATransactionInFlightThatWasDroppedResendsIt() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(700));
    rpc("evm_setAutomine", false);
    service(reporterChain(), config.withReceiptTimeout(Duration.ZERO)).runOnce();
    String lowest = lowestNonceInFlight(reporterChain());
    rpc("anvil_dropTransaction", lowest);
    rpc("evm_setAutomine", true);
    // a new process with a new client: it never sent anything, so only the node can tell it
    Web3jBillingChain restarted = reporterChain();
    runUntilSettled(service(restarted, config), 4);
    assertProvidersPaidExactlyTheMeteredAmounts(restarted);
  }

  @Test
  void aReorganisationMovesTheCursorBackAndThePairIsSettledAgain() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(1800));
    Web3jBillingChain chain = reporterChain();
    String snapshot = (String) rpc("evm_snapshot").getResult();
    SettlementService s = service(chain, config);
    assertThat(s.runOnce().pairsConfirmed()).isEqualTo(8);
    assertProvidersPaidExactlyTheMeteredAmounts(chain);
    // the blocks holding the settlements are replaced by a chain without them
    rpc("evm_revert", snapshot);
    assertThat(chain.providerBalance(providerAddress(0))).isZero();
    assertThat(s.recheckSettled()).isEqualTo(8);
    assertThat(ledger.pending()).hasSize(8);
    runUntilSettled(s, 3);
    assertProvidersPaidExactlyTheMeteredAmounts(chain);
  }

  @Test
  void aSettlementCountsOnlyAtTheConfiguredDepth() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(600));
    Web3jBillingChain chain = reporterChain();
    SettlementService s =
        service(
            chain,
            config
                .withBatchSize(100)
                .withConfirmations(3)
                .withReceiptTimeout(Duration.ofMillis(300)));
    RoundResult first = s.runOnce();
    assertThat(first.batchesSent()).isEqualTo(1); // mined at once (automine), depth 1
    assertThat(first.pairsConfirmed()).isZero();
    assertThat(store.all()).allMatch(l -> l.settledWei().signum() == 0 && l.inFlightTx() != null);
    rpc("evm_mine");
    assertThat(s.runOnce().pairsConfirmed()).as("depth 2").isZero();
    rpc("evm_mine");
    RoundResult later = s.runOnce();
    assertThat(later.pairsConfirmed()).isEqualTo(8);
    assertThat(later.batchesSent()).isZero();
    assertProvidersPaidExactlyTheMeteredAmounts(chain);
  }

  @Test
  void aPoisonPairIsSetAsideWhileTheHealthyOnesSettle() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(600));
    PairId poison = new PairId("hard/huge", payerAddress(0), providerAddress(1));
    store.update(
        poison, l -> l.withMetered(1, SettlementItem.MAX_AMOUNT.add(BigInteger.TEN.pow(20))));
    Web3jBillingChain chain = reporterChain();
    SettlementService s = service(chain, config);
    RoundResult r = s.runOnce();
    assertThat(r.pairsConfirmed()).isEqualTo(8);
    assertThat(s.outbox().setAside()).containsOnlyKeys(poison);
    assertThat(chain.pairState(poison).owedWei()).isZero();
    for (PairLedger l : store.all()) {
      if (!l.pair().equals(poison)) {
        assertThat(chain.pairState(l.pair()).paidWei()).isEqualTo(l.meteredWei());
      }
    }
    BigInteger healthyForProvider1 =
        store.all().stream()
            .filter(l -> !l.pair().equals(poison))
            .filter(l -> l.pair().provider().equalsIgnoreCase(providerAddress(1)))
            .map(PairLedger::meteredWei)
            .reduce(BigInteger.ZERO, BigInteger::add);
    assertThat(chain.providerBalance(providerAddress(1))).isEqualTo(healthyForProvider1);
  }

  @Test
  void aGasPriceAboveTheCapKeepsTheBacklogUntilItFalls() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(600));
    BigInteger cap = GWEI.multiply(BigInteger.valueOf(20));
    ChainConfig base = config();
    ChainConfig capped =
        new ChainConfig(
            base.rpcUrl(),
            base.contractAddress(),
            base.chainId(),
            new GasPricePolicy(BigInteger.ONE, cap, 125, 13),
            base.gasLimitPercent(),
            base.rpcTimeout(),
            base.logChunkBlocks());
    Web3jBillingChain chain = new Web3jBillingChain(capped, dev.reporter());
    closeAfter.add(chain);
    // the network's base fee rises above what the operator will pay
    rpc(
        "anvil_setNextBlockBaseFeePerGas",
        "0x" + GWEI.multiply(BigInteger.valueOf(50)).toString(16));
    rpc("evm_mine");
    SettlementService s =
        service(
            chain, config.withReceiptTimeout(Duration.ofMillis(300)).withStuckAfter(Duration.ZERO));
    s.runOnce();
    s.runOnce(); // stuck: replacement refused at the cap
    assertThat(ledger.pending()).hasSize(8);
    assertThat(chain.providerBalance(providerAddress(0))).isZero();
    // the fee falls again: the backlog is mined and counted
    rpc("anvil_setNextBlockBaseFeePerGas", "0x" + GWEI.toString(16));
    rpc("evm_mine");
    rpc("evm_mine");
    runUntilSettled(s, 4);
    assertProvidersPaidExactlyTheMeteredAmounts(chain);
  }
}
