package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.RevertDecoder;
import io.gpupool.billing.chain.VoucherSigner;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.contract.GpuPoolBilling;
import io.gpupool.billing.devchain.DevAccounts;
import java.math.BigInteger;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.DefaultBlockParameterName;

/** Payer escrow thawing, provider withdrawal and provider-submitted vouchers on anvil. */
class EscrowAndVoucherAnvilIT extends AnvilTestBase {
  final RevertDecoder decoder = RevertDecoder.forGpuPoolBilling();

  BigInteger balanceOf(String address) throws Exception {
    return dev.web3j().ethGetBalance(address, DefaultBlockParameterName.LATEST).send().getBalance();
  }

  @Test
  void payerWithdrawsOnlyAfterTheThawingPeriodAndProvidersAreSettledFirst() throws Exception {
    fund(0, ETH);
    Credentials payer = payer(0);
    Web3jBillingChain chain = reporterChain();
    deployer().startThaw(contract, payer, ETH);
    assertThat(chain.escrow(payer.getAddress()).thawingWei()).isEqualTo(ETH);
    assertThatThrownBy(() -> deployer().withdrawEscrow(contract, payer))
        .satisfies(
            e -> assertThat(decoder.decode(e.getMessage()).name()).isEqualTo("StillThawing"));
    // while thawing, the escrow still pays providers
    PairId p = new PairId("ns/thaw", payer.getAddress(), providerAddress(0));
    BigInteger cost = ETH.divide(BigInteger.valueOf(4));
    SettlementAnvilIT.waitFor(chain, chain.submitSettlement(List.of(new SettlementItem(p, cost))));
    rpc("evm_increaseTime", THAW.toSeconds());
    rpc("evm_mine");
    BigInteger before = balanceOf(payer.getAddress());
    var receipt = deployer().withdrawEscrow(contract, payer);
    BigInteger gasCost =
        receipt
            .getGasUsed()
            .multiply(new BigInteger(receipt.getEffectiveGasPrice().substring(2), 16));
    assertThat(balanceOf(payer.getAddress()).add(gasCost).subtract(before))
        .isEqualTo(ETH.subtract(cost));
    assertThat(chain.escrow(payer.getAddress()).balanceWei()).isZero();
    assertThat(chain.providerBalance(providerAddress(0))).isEqualTo(cost);
  }

  @Test
  void providerWithdrawsItsBalanceToItsPayoutAddress() throws Exception {
    fund(1, ETH);
    Web3jBillingChain chain = reporterChain();
    Credentials provider = dev.provider(1);
    String payout = DevAccounts.account(9).getAddress();
    deployer().registerProvider(contract, provider, payout);
    PairId p = new PairId("ns/payout", payerAddress(1), provider.getAddress());
    SettlementAnvilIT.waitFor(chain, chain.submitSettlement(List.of(new SettlementItem(p, GWEI))));
    BigInteger before = balanceOf(payout);
    deployer().providerWithdraw(contract, provider);
    assertThat(balanceOf(payout).subtract(before)).isEqualTo(GWEI);
    assertThat(chain.providerBalance(provider.getAddress())).isZero();
    assertThatThrownBy(() -> deployer().providerWithdraw(contract, provider))
        .satisfies(
            e -> assertThat(decoder.decode(e.getMessage()).name()).isEqualTo("NothingToWithdraw"));
  }

  @Test
  void providerSettlesItsOwnPairWithAReporterVoucher() throws Exception {
    fund(0, ETH);
    Credentials provider = dev.provider(2);
    PairId p = new PairId("ns/voucher", payerAddress(0), provider.getAddress());
    SettlementItem voucher = new SettlementItem(p, GWEI.multiply(BigInteger.valueOf(3)));
    GpuPoolBilling asProvider = deployer().contract(contract, provider);
    // the Java digest is the contract's digest
    byte[] onChain =
        asProvider
            .voucherDigest(p.payer(), p.jobIdHash(), p.provider(), voucher.cumulativeWei())
            .send();
    assertThat(VoucherSigner.digest(dev.chainId(), contract, voucher)).isEqualTo(onChain);
    byte[] sig = VoucherSigner.sign(dev.reporter(), dev.chainId(), contract, voucher);
    asProvider
        .settleWithVoucher(p.payer(), p.jobIdHash(), p.provider(), voucher.cumulativeWei(), sig)
        .send();
    Web3jBillingChain chain = reporterChain();
    assertThat(chain.providerBalance(provider.getAddress())).isEqualTo(voucher.cumulativeWei());
    // the same voucher again pays nothing
    asProvider
        .settleWithVoucher(p.payer(), p.jobIdHash(), p.provider(), voucher.cumulativeWei(), sig)
        .send();
    assertThat(chain.providerBalance(provider.getAddress())).isEqualTo(voucher.cumulativeWei());
    // a voucher signed by the provider itself is refused, decoded by name
    byte[] forged =
        VoucherSigner.sign(provider, dev.chainId(), contract, new SettlementItem(p, ETH));
    assertThatThrownBy(
            () ->
                asProvider
                    .settleWithVoucher(p.payer(), p.jobIdHash(), p.provider(), ETH, forged)
                    .send())
        .satisfies(
            e -> assertThat(decoder.decode(e.getMessage()).name()).isEqualTo("InvalidSignature"));
    // and the reporter's batches continue from the voucher's cursor
    SettlementAnvilIT.waitFor(
        chain,
        chain.submitSettlement(
            List.of(new SettlementItem(p, GWEI.multiply(BigInteger.valueOf(5))))));
    assertThat(chain.providerBalance(provider.getAddress()))
        .isEqualTo(GWEI.multiply(BigInteger.valueOf(5)));
  }
}
