package io.gpupool.sandbox.chain;

import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.devchain.AnvilImpersonation;
import io.gpupool.billing.devchain.BillingDeployer;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.sandbox.pool.PoolSpec;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;

/**
 * The transactions that make a fresh anvil the sandbox's chain: GpuPoolBilling deployed by the
 * owner, the reporter authorised, the pool's providers registered (and staked where their key is at
 * hand), the example payers funded. One line per step goes to the log.
 */
final class ChainSetup {

  /** What the setup left on chain. */
  record Deployed(
      String contract,
      long deployBlock,
      Map<String, String> registeredProviders,
      List<String> payers,
      List<String> unstaked) {}

  private final Web3j web3j;
  private final BillingDeployer deployer;
  private final Credentials owner = DevAccounts.account(SandboxChain.OWNER_ACCOUNT);
  private final Consumer<String> log;

  ChainSetup(Web3j web3j, BillingDeployer deployer, Consumer<String> log) {
    this.web3j = web3j;
    this.deployer = deployer;
    this.log = log;
  }

  Deployed run(PoolSpec pool, SandboxChain.Options options, String rpcUrl) throws Exception {
    String contract = deployer.deploy(owner, options.thawPeriod());
    long block = web3j.ethBlockNumber().send().getBlockNumber().longValueExact();
    deployer.authoriseReporter(contract, owner, SandboxChain.reporter().getAddress());
    // The operator's key also opens and resolves disputes; the contract has no admin delay here.
    deployer.authoriseVerifier(contract, owner, SandboxChain.reporter().getAddress());
    deployer.setTrustParameters(
        contract,
        owner,
        SandboxChain.CHALLENGE_WINDOW,
        SandboxChain.SLASH_BPS,
        SandboxChain.WHISTLEBLOWER_BPS);
    log.accept("GpuPoolBilling deployed at " + contract + " (block " + block + ") on " + rpcUrl);
    Map<String, String> registered = new LinkedHashMap<>();
    List<String> unstaked = registerProviders(pool, contract, registered);
    List<String> payers = fundPayers(contract, options.escrowWeiPerPayer());
    if (!unstaked.isEmpty()) {
      log.accept(
          "stake gate off: "
              + String.join(", ", unstaked)
              + " cannot stake (no key at hand), and the gate would keep every job off their"
              + " nodes");
    }
    return new Deployed(contract, block, registered, payers, unstaked);
  }

  /**
   * Registers every provider of the pool; fills {@code registered} with those that registered
   * themselves and returns those with GPUs that could not stake (no key at hand).
   */
  private List<String> registerProviders(
      PoolSpec pool, String contract, Map<String, String> registered) throws Exception {
    List<String> unstaked = new ArrayList<>();
    List<String> staked = new ArrayList<>();
    for (PoolSpec.Provider p : pool.providers()) {
      Optional<Credentials> key = PoolStakes.devAccount(p.payoutAddress());
      if (key.isEmpty()) {
        if (PoolStakes.gpusOf(pool, p.name()) > 0) {
          unstaked.add(p.name());
        }
        // No key at hand: registered by the owner (the sandbox's contract has no admin delay).
        deployer
            .contract(contract, owner)
            .proposeProvider(p.payoutAddress(), p.payoutAddress())
            .send();
        deployer.contract(contract, owner).confirmProvider(p.payoutAddress()).send();
        log.accept(
            "provider "
                + p.name()
                + ": payout address "
                + p.payoutAddress()
                + " is not an anvil dev account; registered by the owner");
        continue;
      }
      // The provider registers itself; its balance is withdrawn to its own address.
      deployer.registerProvider(contract, key.get(), key.get().getAddress());
      registered.put(p.name(), key.get().getAddress());
      BigInteger stake = PoolStakes.stakeOf(pool, p);
      if (stake.signum() > 0) {
        deployer.stake(contract, key.get(), stake);
        staked.add(
            p.name()
                + " "
                + TokenUnits.fromWei(PoolStakes.stakePerGpu(p)).toPlainString()
                + " per GPU");
      }
    }
    log.accept(
        "payout addresses registered for "
            + String.join(", ", registered.keySet())
            + "; staked: "
            + String.join(", ", staked)
            + " (the gate wants "
            + TokenUnits.fromWei(PoolStakes.STAKE_PER_GPU_WEI).toPlainString()
            + " per GPU); challenge window "
            + SandboxChain.human(SandboxChain.CHALLENGE_WINDOW));
    return unstaked;
  }

  /**
   * Funds the example payers' escrow and lets the reporter charge them; returns their addresses.
   */
  private List<String> fundPayers(String contract, BigInteger escrowWei) throws Exception {
    List<String> payers = new ArrayList<>();
    for (int index : SandboxChain.PAYER_ACCOUNTS) {
      Credentials payer = DevAccounts.account(index);
      if (escrowWei.signum() > 0) {
        deployer.depositFor(contract, payer, payer.getAddress(), escrowWei);
      }
      // The payer lets the sandbox's reporter charge it (a real payer picks a limit of its own).
      deployer.setSpendingLimit(
          contract,
          payer,
          SandboxChain.reporter().getAddress(),
          AnvilImpersonation.UNLIMITED,
          Duration.ofDays(1));
      payers.add(payer.getAddress());
    }
    log.accept(
        "payers "
            + String.join(", ", payers)
            + " funded with "
            + TokenUnits.fromWei(escrowWei).toPlainString()
            + " each");
    return payers;
  }
}
