package io.gpupool.billing.devchain;

import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.ProviderEarnings;
import io.gpupool.billing.contract.GpuPoolBilling;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.gas.ContractGasProvider;
import org.web3j.tx.gas.StaticGasProvider;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

/**
 * Deploys GpuPoolBilling and performs the administrative and payer/provider calls around it
 * (authorise a reporter, register providers, fund escrows, set spending limits, thaw, withdraw).
 * Used by the sandbox, tests and benchmarks.
 */
public final class BillingDeployer {

  private final Web3j web3j;
  private final long chainId;
  private final ContractGasProvider gas;

  /** Deployer for a chain; transactions use {@code gasPriceWei} and up to 8M gas. */
  public BillingDeployer(Web3j web3j, long chainId, BigInteger gasPriceWei) {
    this.web3j = Objects.requireNonNull(web3j, "web3j");
    this.chainId = chainId;
    this.gas = new StaticGasProvider(gasPriceWei, BigInteger.valueOf(8_000_000));
  }

  /** Deployer with a 10 gwei gas price (enough for a fresh anvil). */
  public BillingDeployer(Web3j web3j, long chainId) {
    this(web3j, chainId, BigInteger.valueOf(10_000_000_000L));
  }

  /**
   * Deploy a new contract owned by {@code owner} with no admin delay (a local chain: reporters and
   * owner-registered providers take effect at once); returns its address.
   */
  public String deploy(Credentials owner, Duration thawPeriod) {
    return deploy(owner, thawPeriod, Duration.ZERO);
  }

  /** Deploy a new contract owned by {@code owner}; returns its address. */
  public String deploy(Credentials owner, Duration thawPeriod, Duration adminDelay) {
    try {
      return GpuPoolBilling.deploy(
              web3j,
              txManager(owner),
              gas,
              BigInteger.valueOf(thawPeriod.toSeconds()),
              BigInteger.valueOf(adminDelay.toSeconds()))
          .send()
          .getContractAddress();
    } catch (Exception e) {
      throw new IllegalStateException("deployment failed: " + e.getMessage(), e);
    }
  }

  /** The contract as seen by {@code as} (for calls and transactions). */
  public GpuPoolBilling contract(String address, Credentials as) {
    return GpuPoolBilling.load(address, web3j, txManager(as), gas);
  }

  /** Propose and at once activate a reporter: only where the admin delay is zero or has passed. */
  public TransactionReceipt authoriseReporter(String contract, Credentials owner, String reporter) {
    send(() -> contract(contract, owner).proposeReporter(reporter).send());
    return send(() -> contract(contract, owner).activateReporter(reporter).send());
  }

  /** The provider registers itself (its own key), withdrawals going to {@code payout}. */
  public TransactionReceipt registerProvider(String contract, Credentials provider, String payout) {
    return send(() -> contract(contract, provider).registerProvider(payout).send());
  }

  /** {@code payer} lets {@code reporter} charge at most {@code perPeriodWei} per {@code period}. */
  public TransactionReceipt setSpendingLimit(
      String contract,
      Credentials payer,
      String reporter,
      BigInteger perPeriodWei,
      Duration period) {
    return send(
        () ->
            contract(contract, payer)
                .setSpendingLimit(reporter, perPeriodWei, BigInteger.valueOf(period.toSeconds()))
                .send());
  }

  /** {@code from} deposits {@code wei} into {@code payer}'s escrow. */
  public TransactionReceipt depositFor(
      String contract, Credentials from, String payer, BigInteger wei) {
    return send(() -> contract(contract, from).depositFor(payer, wei).send());
  }

  public TransactionReceipt startThaw(String contract, Credentials payer, BigInteger wei) {
    return send(() -> contract(contract, payer).startThaw(wei).send());
  }

  public TransactionReceipt withdrawEscrow(String contract, Credentials payer) {
    return send(() -> contract(contract, payer).withdrawEscrow().send());
  }

  /** Propose and at once activate a verifier: only where the admin delay is zero or has passed. */
  public TransactionReceipt authoriseVerifier(String contract, Credentials owner, String verifier) {
    send(() -> contract(contract, owner).proposeVerifier(verifier).send());
    return send(() -> contract(contract, owner).activateVerifier(verifier).send());
  }

  /**
   * Propose and at once apply the challenge window and slashing shares (basis points): only where
   * the admin delay is zero or has passed.
   */
  public TransactionReceipt setTrustParameters(
      String contract, Credentials owner, Duration window, int slashBps, int whistleblowerBps) {
    send(
        () ->
            contract(contract, owner)
                .proposeTrustParameters(
                    BigInteger.valueOf(window.toSeconds()),
                    BigInteger.valueOf(slashBps),
                    BigInteger.valueOf(whistleblowerBps))
                .send());
    return send(() -> contract(contract, owner).applyTrustParameters().send());
  }

  /** The provider stakes {@code wei} with its own key. */
  public TransactionReceipt stake(String contract, Credentials provider, BigInteger wei) {
    return send(() -> contract(contract, provider).stake(wei).send());
  }

  public TransactionReceipt withdrawReward(String contract, Credentials whistleblower) {
    return send(() -> contract(contract, whistleblower).withdrawReward().send());
  }

  /**
   * The provider collects its matured pairs (contract version 6 keeps earnings in each pair until
   * collected), then withdraws its balance to its payout address, as {@code ./gpupool chain
   * provider withdraw} does.
   */
  public TransactionReceipt providerWithdraw(String contract, Credentials provider) {
    collect(contract, provider);
    return send(() -> contract(contract, provider).withdraw().send());
  }

  /** The provider collects every pair holding matured earnings; nothing is sent when none does. */
  public void collect(String contract, Credentials provider) {
    // The RPC URL is not used: the earnings are read through this deployer's own client.
    ChainConfig config = ChainConfig.of("http://unused", contract, chainId);
    ProviderEarnings earnings = ProviderEarnings.over(config, web3j);
    List<String> payers = new ArrayList<>();
    List<byte[]> jobs = new ArrayList<>();
    for (ProviderEarnings.ProviderPair p : earnings.pairsOf(provider.getAddress())) {
      if (earnings
              .pairEarnings(p.payer(), p.jobIdHash(), provider.getAddress())
              .collectableWei()
              .signum()
          > 0) {
        payers.add(p.payer());
        jobs.add(p.jobIdHash());
      }
    }
    if (!payers.isEmpty()) {
      send(() -> contract(contract, provider).collect(provider.getAddress(), payers, jobs).send());
    }
  }

  private RawTransactionManager txManager(Credentials who) {
    return new RawTransactionManager(
        web3j, who, chainId, new PollingTransactionReceiptProcessor(web3j, 50, 400));
  }

  @FunctionalInterface
  private interface Call {
    TransactionReceipt run() throws Exception;
  }

  private static TransactionReceipt send(Call call) {
    try {
      return call.run();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}
