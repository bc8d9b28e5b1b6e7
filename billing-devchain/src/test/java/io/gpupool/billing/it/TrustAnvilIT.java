package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.RevertDecoder;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import io.gpupool.billing.settlement.OutboxTrustChain;
import io.gpupool.billing.settlement.SettlementService;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;

/**
 * Stake, the challenge window and disputes on anvil, through the operator's client ({@link
 * Web3jBillingChain} as {@code TrustChain}) with its key as reporter and verifier.
 */
class TrustAnvilIT extends AnvilTestBase {
  static final Duration WINDOW = Duration.ofSeconds(60);
  final RevertDecoder decoder = RevertDecoder.forGpuPoolBilling();
  final Credentials whistleblower = DevAccounts.account(9);

  @BeforeEach
  void trustParameters() {
    deployer().setTrustParameters(contract, dev.owner(), WINDOW, 5_000, 5_000);
    deployer().authoriseVerifier(contract, dev.owner(), dev.reporter().getAddress());
  }

  void advance(Duration d) {
    rpc("evm_increaseTime", d.toSeconds());
    rpc("evm_mine");
  }

  @Test
  void honestProvidersEarningsBecomeWithdrawableAfterTheWindow() {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    assertThat(chain.challengeWindow()).isEqualTo(WINDOW);
    PairId pair = new PairId("ns/honest", payerAddress(0), providerAddress(0));
    BigInteger cost = ETH.divide(BigInteger.TEN);
    SettlementAnvilIT.waitFor(
        chain, chain.submitSettlement(List.of(new SettlementItem(pair, cost))));

    var earnings = chain.earnings(providerAddress(0));
    assertThat(earnings.withdrawableWei()).isZero();
    assertThat(earnings.maturingWei()).isEqualTo(cost);
    assertThat(earnings.nextMaturesAt()).isPositive();
    assertThatThrownBy(() -> deployer().providerWithdraw(contract, dev.provider(0)))
        .satisfies(
            e -> assertThat(decoder.decode(e.getMessage()).name()).isEqualTo("NothingToWithdraw"));

    advance(WINDOW.multipliedBy(2));
    assertThat(chain.earnings(providerAddress(0)).withdrawableWei()).isEqualTo(cost);
    assertThat(chain.earnings(providerAddress(0)).maturingWei()).isZero();
    deployer().providerWithdraw(contract, dev.provider(0));
    assertThat(chain.providerBalance(providerAddress(0))).isZero();
  }

  @Test
  void aFraudDisputeSlashesTheStakeAndPaysTheWhistleblower() throws Exception {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    Credentials provider = dev.provider(1);
    deployer().stake(contract, provider, ETH.multiply(BigInteger.TWO));
    assertThat(chain.stake(provider.getAddress()).committedWei())
        .isEqualTo(ETH.multiply(BigInteger.TWO));
    PairId pair = new PairId("ns/liar", payerAddress(0), provider.getAddress());
    BigInteger cost = ETH.divide(BigInteger.valueOf(4));
    SettlementAnvilIT.waitFor(
        chain, chain.submitSettlement(List.of(new SettlementItem(pair, cost))));
    BigInteger escrowBefore = chain.escrow(payerAddress(0)).balanceWei();

    byte[] evidence = Hash.sha3("nonce 7: expected 0x01, got 0x02".getBytes());
    var opened =
        SettlementAnvilIT.waitFor(
            chain, chain.openDispute(pair, cost, evidence, whistleblower.getAddress()));
    assertThat(opened.success()).isTrue();
    var dispute = chain.dispute(pair);
    assertThat(dispute.open()).isTrue();
    assertThat(dispute.frozenWei()).isEqualTo(cost);
    assertThat(dispute.whistleblower()).isEqualToIgnoringCase(whistleblower.getAddress());
    assertThat(chain.earnings(provider.getAddress()).maturingWei()).isZero();
    // The same earnings cannot be disputed twice while the dispute is open.
    assertThatThrownBy(() -> chain.openDispute(pair, cost, evidence, whistleblower.getAddress()))
        .isInstanceOfSatisfying(
            ChainRevertException.class,
            e -> assertThat(e.getMessage()).contains("DisputeAlreadyOpen"));

    assertThat(SettlementAnvilIT.waitFor(chain, chain.resolveDispute(pair, true)).success())
        .isTrue();
    // Slashed: half of 2 ETH = 1 ETH; half of that to the whistleblower, the rest to the payer.
    assertThat(chain.stake(provider.getAddress()).stakedWei()).isEqualTo(ETH);
    assertThat(chain.escrow(payerAddress(0)).balanceWei().subtract(escrowBefore))
        .isEqualTo(cost.add(ETH.divide(BigInteger.TWO)));
    assertThat(chain.dispute(pair).open()).isFalse();
    BigInteger before =
        dev.web3j().ethGetBalance(whistleblower.getAddress(), latest()).send().getBalance();
    var receipt = deployer().withdrawReward(contract, whistleblower);
    BigInteger gas =
        receipt
            .getGasUsed()
            .multiply(new BigInteger(receipt.getEffectiveGasPrice().substring(2), 16));
    BigInteger after =
        dev.web3j().ethGetBalance(whistleblower.getAddress(), latest()).send().getBalance();
    assertThat(after.add(gas).subtract(before)).isEqualTo(ETH.divide(BigInteger.TWO));
  }

  @Test
  void aProviderCaughtWithoutAPaidPairLosesOneShareOfItsStakeOncePerWindow() {
    Web3jBillingChain chain = reporterChain();
    Credentials provider = dev.provider(1);
    deployer().stake(contract, provider, ETH.multiply(BigInteger.TWO));
    byte[] evidence = Hash.sha3("challenge 3: expected 0x0a, got 0x0b".getBytes());
    var slashed =
        SettlementAnvilIT.waitFor(
            chain, chain.slashStake(provider.getAddress(), evidence, whistleblower.getAddress()));
    assertThat(slashed.success()).isTrue();
    // Half of 2 ETH slashed, nothing was paid, so no payer gets any of it.
    assertThat(chain.stake(provider.getAddress()).stakedWei()).isEqualTo(ETH);
    assertThatThrownBy(
            () -> chain.slashStake(provider.getAddress(), evidence, whistleblower.getAddress()))
        .as("once per challenge window")
        .isInstanceOfSatisfying(
            ChainRevertException.class, e -> assertThat(e.getMessage()).contains("SlashTooSoon"));
    // The window here is a minute: the contract's minimum interval, an hour, applies.
    advance(WINDOW);
    assertThatThrownBy(
            () -> chain.slashStake(provider.getAddress(), evidence, whistleblower.getAddress()))
        .isInstanceOfSatisfying(
            ChainRevertException.class, e -> assertThat(e.getMessage()).contains("SlashTooSoon"));
    advance(Duration.ofHours(1).minus(WINDOW));
    assertThat(
            SettlementAnvilIT.waitFor(
                    chain,
                    chain.slashStake(provider.getAddress(), evidence, whistleblower.getAddress()))
                .success())
        .isTrue();
    assertThat(chain.stake(provider.getAddress()).stakedWei())
        .isEqualTo(ETH.divide(BigInteger.TWO));

    Web3jBillingChain stranger = new Web3jBillingChain(config(), dev.provider(3));
    closeAfter.add(stranger);
    assertThatThrownBy(
            () -> stranger.slashStake(provider.getAddress(), evidence, whistleblower.getAddress()))
        .isInstanceOfSatisfying(
            ChainRevertException.class, e -> assertThat(e.getMessage()).contains("NotVerifier"));
  }

  @Test
  void aNoFraudVerdictUnfreezesAndAStrangerCannotDispute() {
    fund(1, ETH);
    Web3jBillingChain chain = reporterChain();
    PairId pair = new PairId("ns/fine", payerAddress(1), providerAddress(2));
    SettlementAnvilIT.waitFor(
        chain, chain.submitSettlement(List.of(new SettlementItem(pair, GWEI))));
    byte[] evidence = new byte[32];
    SettlementAnvilIT.waitFor(
        chain, chain.openDispute(pair, GWEI, evidence, whistleblower.getAddress()));
    SettlementAnvilIT.waitFor(chain, chain.resolveDispute(pair, false));
    assertThat(chain.earnings(providerAddress(2)).withdrawableWei()).isEqualTo(GWEI);
    assertThat(chain.dispute(pair).disputedTotalWei()).isEqualTo(GWEI);

    Web3jBillingChain stranger = new Web3jBillingChain(config(), dev.provider(3));
    closeAfter.add(stranger);
    assertThatThrownBy(() -> stranger.openDispute(pair, GWEI, evidence, whistleblower.getAddress()))
        .isInstanceOfSatisfying(
            ChainRevertException.class, e -> assertThat(e.getMessage()).contains("NotVerifier"));
  }

  @Test
  void aDisputeThroughTheOutboxIsSentAgainAfterTheNodeDroppedIt() {
    fund(0, ETH);
    Web3jBillingChain chain = reporterChain();
    PairId pair = new PairId("ns/dropped-dispute", payerAddress(0), providerAddress(3));
    SettlementAnvilIT.waitFor(
        chain, chain.submitSettlement(List.of(new SettlementItem(pair, GWEI))));
    InMemoryBillingStore store = new InMemoryBillingStore();
    SettlementService loop =
        new SettlementService(
            SettlementAnvilTestBase.FAST_ROUNDS.withReceiptTimeout(Duration.ofSeconds(5)),
            new BillingLedger(store),
            chain,
            Clock.systemUTC());
    OutboxTrustChain disputes = new OutboxTrustChain(chain, chain, loop);

    rpc("evm_setAutomine", false);
    String tx = disputes.openDispute(pair, GWEI, new byte[32], whistleblower.getAddress());
    assertThat(store.outbox()).singleElement().satisfies(e -> assertThat(e.isCall()).isTrue());
    rpc("anvil_dropTransaction", tx);
    assertThat(chain.isKnown(tx)).isFalse();
    rpc("evm_setAutomine", true);

    loop.runOnce(); // the loop finds it unknown to the node and broadcasts the persisted bytes
    for (int round = 0; round < 3 && !store.outbox().isEmpty(); round++) {
      loop.runOnce();
    }
    assertThat(store.outbox()).isEmpty();
    assertThat(disputes.receipt(tx)).hasValueSatisfying(r -> assertThat(r.success()).isTrue());
    assertThat(chain.dispute(pair).open()).isTrue();
    assertThat(chain.dispute(pair).frozenWei()).isEqualTo(GWEI);
  }

  static org.web3j.protocol.core.DefaultBlockParameter latest() {
    return org.web3j.protocol.core.DefaultBlockParameterName.LATEST;
  }
}
