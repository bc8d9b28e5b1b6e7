package io.gpupool.sandbox.chain;

import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.ProviderEarnings;
import io.gpupool.billing.contract.GpuPoolBilling;
import io.gpupool.billing.devchain.AnvilImpersonation;
import io.gpupool.billing.devchain.BillingDeployer;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.sandbox.pool.PoolSpec;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

/**
 * The sandbox's billing chain: anvil on 127.0.0.1, GpuPoolBilling deployed by dev account 0, dev
 * account 9 authorised as the operator's reporter, the pool's providers' payout addresses
 * registered (those that are anvil dev accounts, whose keys are public), and the example payers
 * (dev accounts 6, 7 and 8, the payers of the BillingAccounts in examples/) funded with escrow.
 * {@link #operatorEnvironment()} is what the operator needs to settle on it.
 *
 * <p>The node itself (process, state file, restarts) is {@link SandboxAnvil}; the transactions that
 * set the contract up are {@link ChainSetup}; what the pool file says providers stake is {@link
 * PoolStakes}. This class is what the sandbox, the CLI and the tests hold: the chain's addresses,
 * the operator's environment, and the contract's views.
 *
 * <p>Everything here uses anvil's public test mnemonic: local chains only, never real money.
 */
public final class SandboxChain implements AutoCloseable {

  /** Deploys and owns the contract. */
  public static final int OWNER_ACCOUNT = DevAccounts.OWNER;

  /**
   * The operator's reporter key. Not dev account 1 (DevAccounts.REPORTER): in the sandbox's pool
   * that address is a provider's payout address, and a separate reporter keeps gas apart.
   */
  public static final int REPORTER_ACCOUNT = 9;

  /** The payers of the BillingAccounts of examples/ (also the queue walkthrough's teams). */
  public static final List<Integer> PAYER_ACCOUNTS = List.of(6, 7, 8);

  /**
   * Settled earnings wait this long before a provider can withdraw them; disputes are possible
   * within it (seconds here, so a newcomer sees it pass).
   */
  public static final Duration CHALLENGE_WINDOW = Duration.ofSeconds(30);

  /**
   * Share of a provider's stake a fraud verdict slashes, and of that the whistleblower's, in bps.
   */
  public static final int SLASH_BPS = 5_000;

  public static final int WHISTLEBLOWER_BPS = 5_000;

  /** How often the operator reads stakes here: a slash shows within seconds. */
  public static final Duration STAKE_REFRESH = Duration.ofSeconds(2);

  /**
   * How often the operator compares its settled cursors with the chain here (production: 10 min). A
   * crashed anvil comes back at its last state write ({@link Options#anvilStateInterval()}), so
   * settlements of its last seconds can vanish after the operator counted them; the recheck moves
   * those cursors back and the usage is settled again, within this long.
   */
  public static final Duration RECHECK_INTERVAL = Duration.ofSeconds(10);

  /**
   * What to set up. {@code anvilStateInterval}: how often anvil writes its state file, so how many
   * seconds of blocks a SIGKILL can take back ({@link SandboxAnvil#STATE_INTERVAL} unless a chaos
   * run asks for a longer one to make its crashes lose settlements).
   */
  public record Options(
      BigInteger escrowWeiPerPayer,
      Duration thawPeriod,
      BillingIntervals intervals,
      Duration anvilStateInterval) {

    public Options {
      Objects.requireNonNull(escrowWeiPerPayer, "escrowWeiPerPayer");
      Objects.requireNonNull(thawPeriod, "thawPeriod");
      Objects.requireNonNull(intervals, "intervals");
      Objects.requireNonNull(anvilStateInterval, "anvilStateInterval");
      if (escrowWeiPerPayer.signum() < 0) {
        throw new IllegalArgumentException("escrow must not be negative");
      }
      if (anvilStateInterval.toSeconds() < 1) {
        throw new IllegalArgumentException("anvil writes its state at most once a second");
      }
    }

    public Options(BigInteger escrowWeiPerPayer, Duration thawPeriod, BillingIntervals intervals) {
      this(escrowWeiPerPayer, thawPeriod, intervals, SandboxAnvil.STATE_INTERVAL);
    }

    /** 100 tokens of escrow per example payer, a one-hour thaw, intervals for the time scale. */
    public static Options forTimeScale(double timeScale) {
      return new Options(
          TokenUnits.toWei("100"), Duration.ofHours(1), BillingIntervals.forTimeScale(timeScale));
    }

    public Options withEscrowPerPayer(BigInteger wei) {
      return new Options(wei, thawPeriod, intervals, anvilStateInterval);
    }

    /** anvil writing its state every {@code interval} (whole seconds) instead of every second. */
    public Options withAnvilStateInterval(Duration interval) {
      return new Options(escrowWeiPerPayer, thawPeriod, intervals, interval);
    }
  }

  private final SandboxAnvil anvil;
  private final Web3j web3j;
  private final BillingDeployer deployer;
  private final String contract;
  private final long deployBlock;
  private final Options options;
  private final Map<String, String> registeredProviders;
  private final List<String> payers;
  private final List<String> unstaked;

  private SandboxChain(
      SandboxAnvil anvil,
      Web3j web3j,
      BillingDeployer deployer,
      Options options,
      ChainSetup.Deployed deployed) {
    this.anvil = anvil;
    this.web3j = web3j;
    this.deployer = deployer;
    this.contract = deployed.contract();
    this.deployBlock = deployed.deployBlock();
    this.options = options;
    this.registeredProviders =
        Collections.unmodifiableMap(new LinkedHashMap<>(deployed.registeredProviders()));
    this.payers = List.copyOf(deployed.payers());
    this.unstaked = List.copyOf(deployed.unstaked());
  }

  /**
   * Starts anvil and sets the contract up for {@code pool}; {@code log} gets one line per step.
   *
   * @throws AnvilMissingException when anvil is not installed
   */
  public static SandboxChain start(PoolSpec pool, Options options, Consumer<String> log) {
    SandboxAnvil anvil = SandboxAnvil.start(options.anvilStateInterval());
    Web3j web3j = Web3j.build(new HttpService(anvil.rpcUrl()));
    try {
      BillingDeployer deployer = new BillingDeployer(web3j, anvil.chainId());
      ChainSetup.Deployed deployed =
          new ChainSetup(web3j, deployer, log).run(pool, options, anvil.rpcUrl());
      return new SandboxChain(anvil, web3j, deployer, options, deployed);
    } catch (Exception e) {
      web3j.shutdown();
      anvil.close();
      throw e instanceof RuntimeException re
          ? re
          : new IllegalStateException("setting up the sandbox chain failed: " + e.getMessage(), e);
    }
  }

  /** The operator's reporter (dev account {@value #REPORTER_ACCOUNT}). */
  public static Credentials reporter() {
    return DevAccounts.account(REPORTER_ACCOUNT);
  }

  /**
   * The operator's {@code GPUPOOL_BILLING_*} environment, including the reporter's private key in
   * {@code GPUPOOL_BILLING_REPORTER_KEY}: hand it to a process environment, never print it.
   */
  public Map<String, String> operatorEnvironment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("GPUPOOL_BILLING_ENABLED", "true");
    env.put("GPUPOOL_BILLING_RPC_URL", rpcUrl());
    env.put("GPUPOOL_BILLING_CONTRACT_ADDRESS", contract);
    env.put("GPUPOOL_BILLING_CHAIN_ID", Long.toString(chainId()));
    env.put("GPUPOOL_BILLING_RECONCILE_FROM_BLOCK", Long.toString(deployBlock));
    env.put("GPUPOOL_BILLING_SETTLEMENT_INTERVAL", options.intervals().settlement().toString());
    env.put("GPUPOOL_BILLING_METERING_INTERVAL", options.intervals().metering().toString());
    env.put("GPUPOOL_BILLING_SUSPEND_GRACE", options.intervals().suspendGrace().toString());
    env.put("GPUPOOL_BILLING_RECHECK_INTERVAL", RECHECK_INTERVAL.toString());
    if (unstaked.isEmpty()) {
      // Every provider staked with its own key: placement uses only providers whose stake covers
      // their GPUs, as a production install would require.
      env.put(
          "GPUPOOL_TRUST_MIN_STAKE_PER_GPU",
          TokenUnits.fromWei(PoolStakes.STAKE_PER_GPU_WEI).toPlainString());
      env.put("GPUPOOL_TRUST_STAKE_REFRESH", STAKE_REFRESH.toString());
    }
    env.put(
        "GPUPOOL_BILLING_REPORTER_KEY",
        Numeric.toHexStringWithPrefixZeroPadded(reporter().getEcKeyPair().getPrivateKey(), 64));
    return env;
  }

  /** What a user needs to look at the chain (no key material). */
  public List<String> describe() {
    List<String> lines = new ArrayList<>();
    lines.add("chain: anvil at " + rpcUrl() + " (chain id " + chainId() + ")");
    lines.add("chain: GpuPoolBilling at " + contract + " (deployed in block " + deployBlock + ")");
    lines.add(
        "chain: reporter and verifier (the operator's key) "
            + reporter().getAddress()
            + "; challenge window "
            + human(CHALLENGE_WINDOW)
            + ", fraud slashes "
            + SLASH_BPS / 100
            + "% of a stake, "
            + WHISTLEBLOWER_BPS / 100
            + "% of that to the whistleblower");
    lines.add(
        unstaked.isEmpty()
            ? "chain: placement uses a provider only while its stake covers "
                + TokenUnits.fromWei(PoolStakes.STAKE_PER_GPU_WEI).toPlainString()
                + " per GPU (kubectl get gpuprovider: STAKE)"
            : "chain: stake gate off (" + String.join(", ", unstaked) + " could not stake)");
    lines.add(
        "chain: settle every "
            + human(options.intervals().settlement())
            + ", meter every "
            + human(options.intervals().metering())
            + ", suspend after "
            + human(options.intervals().suspendGrace())
            + " of dry escrow");
    lines.add(
        "chain: payers funded with "
            + TokenUnits.fromWei(options.escrowWeiPerPayer()).toPlainString()
            + " each: "
            + String.join(", ", payers));
    registeredProviders.forEach(
        (name, address) -> lines.add("chain: provider " + name + " -> " + address));
    String provider = registeredProviders.values().stream().findFirst().orElse(null);
    if (provider != null) {
      // Contract version 6 keeps earnings in each pair until collected, so providerBalance alone
      // reads 0 for a provider whose jobs were paid: the status command sums the pairs.
      lines.add(
          "chain: a provider's earnings (collected balance, withdrawable after collecting, in the"
              + " challenge window):");
      lines.add(
          "  ./gpupool chain status "
              + provider
              + " --rpc "
              + rpcUrl()
              + " --contract "
              + contract);
    }
    if (!payers.isEmpty()) {
      lines.add("chain: a payer's escrow (balance, thawing, thaw end; hex words):");
      lines.add("  " + ChainQueries.curl(rpcUrl(), contract, ChainQueries.escrowOf(payers.get(0))));
    }
    lines.add(
        "chain: the cluster's view: kubectl get tj (COST), kubectl get gpuprovider NAME -o"
            + " jsonpath='{.status.earnings}'");
    return lines;
  }

  static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }

  public String rpcUrl() {
    return anvil.rpcUrl();
  }

  public long chainId() {
    return anvil.chainId();
  }

  public String contractAddress() {
    return contract;
  }

  /** Block the contract was deployed in. */
  public long deployBlock() {
    return deployBlock;
  }

  public Options options() {
    return options;
  }

  /** GpuProvider name -> the address registered on chain for it. */
  public Map<String, String> registeredProviders() {
    return registeredProviders;
  }

  /** The funded example payers' addresses. */
  public List<String> payers() {
    return payers;
  }

  /**
   * What a provider has been paid on the contract and not withdrawn, in wei: its collected balance
   * and what its pairs still hold, matured or inside the challenge window (contract version 6 keeps
   * earnings in each pair until collected).
   */
  public BigInteger providerBalance(String provider) {
    return withdrawable(provider).add(maturing(provider));
  }

  /** What a provider could withdraw after collecting its matured pairs now, in wei. */
  public BigInteger withdrawable(String provider) {
    return call(() -> earnings().earnings(provider).withdrawableWei());
  }

  /** A provider's earnings still inside the challenge window, in wei. */
  public BigInteger maturing(String provider) {
    return call(() -> earnings().earnings(provider).maturingWei());
  }

  /** What a provider has collected out of its pairs (what {@code withdraw} pays now), in wei. */
  public BigInteger collectedBalance(String provider) {
    return call(() -> view().providerBalance(provider).send());
  }

  private ProviderEarnings earnings() {
    return ProviderEarnings.over(ChainConfig.of(rpcUrl(), contract, chainId()), web3j);
  }

  /** A provider's stake (slashable, including what it is unstaking), in wei. */
  public BigInteger stake(String provider) {
    return call(() -> view().stakeOf(provider).send().component1());
  }

  /** A whistleblower's unclaimed rewards, in wei. */
  public BigInteger reward(String whistleblower) {
    return call(() -> view().rewardBalance(whistleblower).send());
  }

  /** A payer's escrow balance on the contract, in wei. */
  public BigInteger escrow(String payer) {
    return call(() -> view().escrowOf(payer).send().component1());
  }

  /** The payout address a provider registered, or the zero address. */
  public String payoutAddress(String provider) {
    return call(() -> view().payoutAddress(provider).send());
  }

  /** True when {@code address} may settle on the contract. */
  public boolean isReporter(String address) {
    return call(() -> view().isReporter(address).send());
  }

  /**
   * Dev account 0 deposits {@code wei} into {@code payer}'s escrow (anyone may fund a payer), and
   * the payer lets the reporter charge it (without that, settlement would pay nothing).
   */
  public void deposit(String payer, BigInteger wei) {
    deployer.depositFor(contract, DevAccounts.account(OWNER_ACCOUNT), payer, wei);
    // A payer outside the dev accounts has no key here; anvil lets the sandbox act for it and
    // grant the reporter the same unlimited spending limit the example payers grant.
    new AnvilImpersonation(anvil.rpcUrl(), contract).grantUnlimited(payer, reporter().getAddress());
  }

  public boolean isAlive() {
    return anvil.isAlive();
  }

  private GpuPoolBilling view() {
    return deployer.contract(contract, DevAccounts.account(OWNER_ACCOUNT));
  }

  @FunctionalInterface
  private interface Call<T> {
    T run() throws Exception;
  }

  private static <T> T call(Call<T> c) {
    try {
      return c.run();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("chain call failed: " + e.getMessage(), e);
    }
  }

  /**
   * Stops anvil and starts it again on its state file and port (see {@link SandboxAnvil#restart}).
   * Returns how long the chain was down.
   */
  public Duration restartAnvil() {
    return anvil.restart();
  }

  /**
   * SIGKILLs anvil and starts it again on the state it last wrote (see {@link
   * SandboxAnvil#crashAndRestart}): the blocks mined since its last state write (up to {@link
   * Options#anvilStateInterval()}) may be gone. Returns how long the chain was down.
   */
  public Duration crashAnvil() {
    return anvil.crashAndRestart();
  }

  /**
   * How many blocks a SIGKILL now would take back: those above anvil's last state write (0 when
   * that write is not readable, e.g. caught mid-write).
   */
  public long blocksSinceStateWrite() {
    OptionalLong written = lastStateWriteBlock();
    return written.isEmpty() ? 0 : Math.max(0, blockNumber() - written.getAsLong());
  }

  /**
   * The block the last completed state write holds; empty before anvil's first write (or while one
   * is being written), when a SIGKILL would take back everything.
   */
  public OptionalLong lastStateWriteBlock() {
    return anvil.lastWrittenBlock();
  }

  /** The chain's latest block number. */
  public long blockNumber() {
    return call(() -> web3j.ethBlockNumber().send().getBlockNumber().longValueExact());
  }

  /** Stops anvil (the chain's state goes with it). */
  @Override
  public void close() {
    web3j.shutdown();
    anvil.close();
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "SandboxChain[%s, contract %s]", rpcUrl(), contract);
  }
}
