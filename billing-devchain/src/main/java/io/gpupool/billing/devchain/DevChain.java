package io.gpupool.billing.devchain;

import io.gpupool.billing.chain.ChainConfig;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;

/**
 * A ready-to-use local billing chain: anvil started, GpuPoolBilling deployed by dev account 0 (no
 * admin delay), dev account 1 authorised as reporter, dev accounts 2..9 granting it an unlimited
 * spending limit, 6..9 registered as providers, 2.. funded as example payers. The sandbox starts
 * one of these; tests use it too.
 */
public final class DevChain implements AutoCloseable {

  private final AnvilProcess anvil;
  private final Web3j web3j;
  private final String contractAddress;
  private final long deployBlock;
  private final List<Credentials> payers;

  private DevChain(
      AnvilProcess anvil,
      Web3j web3j,
      String contractAddress,
      long deployBlock,
      List<Credentials> payers) {
    this.anvil = anvil;
    this.web3j = web3j;
    this.contractAddress = contractAddress;
    this.deployBlock = deployBlock;
    this.payers = List.copyOf(payers);
  }

  /**
   * Start anvil and set everything up.
   *
   * @param thawPeriod the contract's payer thawing period
   * @param payerCount example payers to fund (dev accounts 2..; at most 4)
   * @param escrowWei escrow deposited for each
   */
  public static DevChain start(Duration thawPeriod, int payerCount, BigInteger escrowWei) {
    if (payerCount < 0 || payerCount > DevAccounts.FIRST_PROVIDER - DevAccounts.FIRST_PAYER) {
      throw new IllegalArgumentException("payerCount must be in [0, 4]");
    }
    AnvilProcess anvil = AnvilProcess.start();
    Web3j web3j = Web3j.build(new HttpService(anvil.rpcUrl()));
    try {
      BillingDeployer deployer = new BillingDeployer(web3j, anvil.chainId());
      Credentials owner = DevAccounts.account(DevAccounts.OWNER);
      String contract = deployer.deploy(owner, thawPeriod);
      long block = web3j.ethBlockNumber().send().getBlockNumber().longValueExact();
      String reporter = DevAccounts.account(DevAccounts.REPORTER).getAddress();
      deployer.authoriseReporter(contract, owner, reporter);
      // Every dev account from the first payer on may be charged by the reporter (providers pay
      // for jobs too in some tests), and the example providers register themselves.
      for (int i = DevAccounts.FIRST_PAYER; i < DevAccounts.FIRST_PROVIDER + 4; i++) {
        Credentials account = DevAccounts.account(i);
        deployer.setSpendingLimit(
            contract, account, reporter, AnvilImpersonation.UNLIMITED, Duration.ofDays(1));
        if (i >= DevAccounts.FIRST_PROVIDER) {
          deployer.registerProvider(contract, account, account.getAddress());
        }
      }
      List<Credentials> payers = new ArrayList<>();
      for (int i = 0; i < payerCount; i++) {
        Credentials payer = DevAccounts.account(DevAccounts.FIRST_PAYER + i);
        if (escrowWei.signum() > 0) {
          deployer.depositFor(contract, payer, payer.getAddress(), escrowWei);
        }
        payers.add(payer);
      }
      return new DevChain(anvil, web3j, contract, block, payers);
    } catch (Exception e) {
      web3j.shutdown();
      anvil.close();
      throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
    }
  }

  public AnvilProcess anvil() {
    return anvil;
  }

  public Web3j web3j() {
    return web3j;
  }

  public String contractAddress() {
    return contractAddress;
  }

  /** Block the contract was deployed in: where reconciliation starts. */
  public long deployBlock() {
    return deployBlock;
  }

  public long chainId() {
    return anvil.chainId();
  }

  /** The authorised reporter (dev account 1). */
  public Credentials reporter() {
    return DevAccounts.account(DevAccounts.REPORTER);
  }

  public Credentials owner() {
    return DevAccounts.account(DevAccounts.OWNER);
  }

  public List<Credentials> payers() {
    return payers;
  }

  /** Example provider {@code i} (dev accounts 6..9). */
  public Credentials provider(int i) {
    if (i < 0 || i > 3) {
      throw new IllegalArgumentException("provider index must be in [0, 3]");
    }
    return DevAccounts.account(DevAccounts.FIRST_PROVIDER + i);
  }

  public BillingDeployer deployer() {
    return new BillingDeployer(web3j, chainId());
  }

  /**
   * Let the reporter charge {@code payer}, an address whose key is not at hand (anvil impersonates
   * it); for payers outside the dev accounts.
   */
  public void allowReporter(String payer) {
    new AnvilImpersonation(anvil.rpcUrl(), contractAddress)
        .grantUnlimited(payer, reporter().getAddress());
  }

  /** Register {@code provider} (an address whose key is not at hand) to be paid. */
  public void registerProvider(String provider) {
    new AnvilImpersonation(anvil.rpcUrl(), contractAddress).registerProvider(provider);
  }

  /** Chain configuration for the reporter's {@code Web3jBillingChain}. */
  public ChainConfig chainConfig() {
    return ChainConfig.of(anvil.rpcUrl(), contractAddress, chainId());
  }

  @Override
  public void close() {
    web3j.shutdown();
    anvil.close();
  }
}
