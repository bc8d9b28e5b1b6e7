package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.ContractVersionMismatchException;
import io.gpupool.billing.chain.PairEvent;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.AnvilImpersonation;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/**
 * The contract's v2 rules as the operator's chain client meets them on anvil: the version check,
 * unregistered providers, payers' spending limits.
 */
class ContractRulesAnvilIT extends AnvilTestBase {

  @Test
  void theDeployedContractsVersionIsAccepted() {
    reporterChain().requireContractVersion();
  }

  @Test
  void anAddressWithoutVersionIsRefusedWithAClearMessage() {
    Web3jBillingChain chain =
        new Web3jBillingChain(
            ChainConfig.of(dev.anvil().rpcUrl(), payerAddress(0), dev.chainId()), dev.reporter());
    closeAfter.add(chain);
    assertThatThrownBy(chain::requireContractVersion)
        .isInstanceOf(ContractVersionMismatchException.class)
        .hasMessageContaining("has no VERSION()")
        .hasMessageContaining("needs version " + Web3jBillingChain.EXPECTED_VERSION);
  }

  @Test
  void aContractOfAnotherVersionIsRefused() throws Exception {
    // Runtime code that answers every call with uint256(1): "version 1".
    String init = "0x69600160005260206000f3600052600a6016f3";
    String hash =
        dev.web3j()
            .ethSendTransaction(
                Transaction.createContractTransaction(
                    dev.owner().getAddress(), null, GWEI.multiply(BigInteger.TEN), init))
            .send()
            .getTransactionHash();
    String old = minedReceipt(hash).getContractAddress();
    Web3jBillingChain chain =
        new Web3jBillingChain(
            ChainConfig.of(dev.anvil().rpcUrl(), old, dev.chainId()), dev.reporter());
    closeAfter.add(chain);
    assertThatThrownBy(chain::requireContractVersion)
        .isInstanceOf(ContractVersionMismatchException.class)
        .hasMessageContaining(
            "is GpuPoolBilling version 1, this operator speaks version "
                + Web3jBillingChain.EXPECTED_VERSION);
  }

  @Test
  void anUnregisteredProviderIsOwedNotPaidUntilItRegisters() {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    String stranger = "0x" + "5a".repeat(20);
    PairId pair = new PairId("rules/unregistered", payerAddress(0), stranger);
    var receipt =
        SettlementAnvilIT.waitFor(
            chain, chain.submitSettlement(List.of(new SettlementItem(pair, GWEI))));
    assertThat(receipt.success()).isTrue();
    assertThat(chain.providerBalance(stranger)).isZero();
    assertThat(chain.pairState(pair).owedWei()).isEqualTo(GWEI);
    assertThat(chain.escrow(payerAddress(0)).balanceWei()).isEqualTo(ETH);

    new AnvilImpersonation(dev.anvil().rpcUrl(), contract).registerProvider(stranger);
    receipt =
        SettlementAnvilIT.waitFor(
            chain, chain.submitSettlement(List.of(new SettlementItem(pair, GWEI))));
    assertThat(receipt.events())
        .extracting(PairEvent::kind)
        .containsExactly(PairEvent.Kind.SETTLED);
    assertThat(chain.providerBalance(stranger)).isEqualTo(GWEI);
  }

  @Test
  void aHeldProvidersUsageGoesOutInTheRoundAfterItsProviderRegisteredEvent() {
    fund(0, ETH);
    String stranger = "0x" + "5b".repeat(20);
    PairId pair = new PairId("rules/registers-later", payerAddress(0), stranger);
    BigInteger metered = new BigInteger("123456789012345");
    InMemoryBillingStore store = new InMemoryBillingStore();
    store.update(pair, l -> l.withMetered(1, metered));
    // the periodic recheck is an hour away: only the event can release the pair in this test
    SettlementService loop =
        new SettlementService(
            SettlementConfig.defaults()
                .withRecheckInterval(Duration.ofHours(1))
                .withReceiptTimeout(Duration.ofSeconds(10)),
            new BillingLedger(store),
            reporterChain(),
            Clock.systemUTC());
    loop.runOnce();
    assertThat(loop.heldForRegistration()).containsExactly(pair);
    loop.runOnce();
    assertThat(loop.heldForRegistration()).as("nothing registered yet").containsExactly(pair);

    new AnvilImpersonation(dev.anvil().rpcUrl(), contract).registerProvider(stranger);
    loop.runOnce();
    assertThat(loop.heldForRegistration()).isEmpty();
    Web3jBillingChain chain = reporterChain();
    assertThat(chain.pairState(pair).paidWei()).isEqualTo(metered);
    assertThat(chain.providerBalance(stranger)).isEqualTo(metered);
    assertThat(store.get(pair).orElseThrow().settledWei()).isEqualTo(metered);
  }

  @Test
  void aPayersLimitCapsWhatTheReporterTakesPerPeriodAndTheRestStaysOwed() {
    fund(1, ETH);
    deployer()
        .setSpendingLimit(
            contract, payer(1), dev.reporter().getAddress(), GWEI, Duration.ofHours(1));
    Web3jBillingChain chain = reporterChain();
    PairId pair = new PairId("rules/limit", payerAddress(1), providerAddress(1));
    BigInteger metered = GWEI.multiply(BigInteger.valueOf(3));
    var receipt =
        SettlementAnvilIT.waitFor(
            chain, chain.submitSettlement(List.of(new SettlementItem(pair, metered))));
    assertThat(receipt.events())
        .extracting(PairEvent::kind)
        .containsExactly(PairEvent.Kind.SETTLED, PairEvent.Kind.OVERDRAWN);
    assertThat(chain.providerBalance(providerAddress(1))).isEqualTo(GWEI);
    assertThat(chain.pairState(pair).owedWei()).isEqualTo(metered);

    rpc("evm_increaseTime", Duration.ofHours(1).toSeconds());
    rpc("evm_mine");
    SettlementAnvilIT.waitFor(
        chain, chain.submitSettlement(List.of(new SettlementItem(pair, metered))));
    assertThat(chain.providerBalance(providerAddress(1))).isEqualTo(GWEI.multiply(BigInteger.TWO));
  }

  /**
   * The receipt of a transaction sent straight to anvil. Under load anvil answers
   * eth_sendTransaction before the automined block is visible to eth_getTransactionReceipt, so poll
   * instead of reading once.
   */
  private TransactionReceipt minedReceipt(String hash) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      var receipt = dev.web3j().ethGetTransactionReceipt(hash).send().getTransactionReceipt();
      if (receipt.isPresent()) {
        return receipt.get();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no receipt for " + hash + " within 20 s");
      }
      Thread.sleep(50);
    }
  }
}
