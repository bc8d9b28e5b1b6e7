package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.chain.BroadcastResult;
import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The settlement service is killed between send and receipt; a fresh service with a fresh client
 * starts from the persisted store (its outbox holds nonce, raw bytes and hash of every transaction
 * in flight). Whatever happened to the transactions meanwhile (dropped from the pool, mined, never
 * broadcast), every provider ends with exactly the metered amount, and the reporter sent exactly
 * the transactions the outbox held: no usage went out in a second transaction.
 */
class OutboxRestartAnvilIT extends SettlementAnvilTestBase {
  final SettlementConfig config = FAST_ROUNDS;

  @Override
  String jobNamespace() {
    return "outbox";
  }

  /** Send everything with mining off, then "kill" the service: returns what it persisted. */
  List<OutboxEntry> sendAndDie(Web3jBillingChain chain) {
    rpc("evm_setAutomine", false);
    SettlementService doomed = service(chain, config.withReceiptTimeout(Duration.ZERO));
    assertThat(doomed.runOnce().batchesSent()).isEqualTo(3);
    List<OutboxEntry> persisted = store.outbox();
    assertThat(persisted).hasSize(3).allMatch(e -> e.state() == OutboxEntry.State.SENT);
    return persisted;
  }

  void restartAndSettle(long nonceBefore, List<OutboxEntry> persisted, int transactions) {
    Web3jBillingChain fresh = reporterChain();
    SettlementService restarted = service(fresh, config);
    runUntilSettled(restarted, 4);
    assertProvidersPaidExactlyTheMeteredAmounts(fresh);
    assertThat(store.outbox()).isEmpty();
    // the persisted transactions were mined as persisted (same hashes), and nothing else but
    // the batches never signed before
    assertThat(fresh.minedNonce()).isEqualTo(nonceBefore + transactions);
    for (OutboxEntry e : persisted) {
      assertThat(fresh.receipt(e.txHash())).as("nonce %d", e.nonce()).isPresent();
    }
  }

  @Test
  void droppedFromThePoolWhileTheServiceWasDown() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(777));
    Web3jBillingChain chain = reporterChain();
    long nonceBefore = chain.minedNonce();
    List<OutboxEntry> persisted = sendAndDie(chain);
    for (OutboxEntry e : persisted) {
      rpc("anvil_dropTransaction", e.txHash());
      assertThat(chain.isKnown(e.txHash())).isFalse();
    }
    rpc("evm_setAutomine", true);
    restartAndSettle(nonceBefore, persisted, 3);
  }

  @Test
  void minedWhileTheServiceWasDown() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(555));
    Web3jBillingChain chain = reporterChain();
    long nonceBefore = chain.minedNonce();
    List<OutboxEntry> persisted = sendAndDie(chain);
    rpc("evm_mine");
    rpc("evm_setAutomine", true);
    restartAndSettle(nonceBefore, persisted, 3);
  }

  @Test
  void killedAfterPersistingAndBeforeTheNodeGotIt() {
    fund(0, ETH);
    fund(1, ETH);
    meterPods(Duration.ofSeconds(333));
    Web3jBillingChain chain = reporterChain();
    long nonceBefore = chain.minedNonce();
    DelegatingChain diesAtBroadcast =
        new DelegatingChain(chain) {
          @Override
          public BroadcastResult broadcast(String rawTx) {
            throw new ChainUnavailableException("the process died here", null);
          }
        };
    service(diesAtBroadcast, config.withReceiptTimeout(Duration.ZERO)).runOnce();
    List<OutboxEntry> persisted = store.outbox();
    assertThat(persisted)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.state()).isEqualTo(OutboxEntry.State.SIGNED);
              assertThat(chain.isKnown(e.txHash())).isFalse();
            });
    // the round stopped at the unreachable node; the other pairs are still due, not in flight
    restartAndSettle(nonceBefore, persisted, 3);
  }
}
