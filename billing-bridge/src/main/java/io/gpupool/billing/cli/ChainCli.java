package io.gpupool.billing.cli;

import static io.gpupool.billing.chain.ContractView.Out.ADDRESS;
import static io.gpupool.billing.chain.ContractView.Out.BOOL;
import static io.gpupool.billing.chain.ContractView.Out.UINT16;
import static io.gpupool.billing.chain.ContractView.Out.UINT256;
import static io.gpupool.billing.chain.ContractView.Out.UINT64;

import io.gpupool.billing.PairId;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.ContractView;
import io.gpupool.billing.chain.ContractView.Answer;
import io.gpupool.billing.chain.ContractView.Out;
import io.gpupool.billing.chain.KeySource;
import io.gpupool.billing.chain.RevertDecoder;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.contract.GpuPoolBilling;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.settlement.OutboxTrustChain;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes16;
import org.web3j.abi.datatypes.generated.Uint16;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint32;
import org.web3j.abi.datatypes.generated.Uint64;
import org.web3j.abi.datatypes.generated.Uint96;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.WalletUtils;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthCall;
import org.web3j.protocol.core.methods.response.EthEstimateGas;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;
import org.web3j.utils.Numeric;

/**
 * {@code ./gpupool chain …}: every participant's calls on a real chain (web3j) — the owner deploys
 * and governs, payers fund and limit what a reporter may charge them, providers register and
 * withdraw. The signing key comes from a file or an environment variable and is never printed.
 * Every transaction is dry-run ({@code eth_estimateGas}) first, so a call the contract would refuse
 * fails with its decoded reason before any gas is spent.
 */
public final class ChainCli {

  static final String USAGE =
      """
      usage: ./gpupool chain <role> <action> [args] --rpc URL [--contract ADDRESS]
                             [--key-file FILE | --key-env VAR]
      (defaults: --rpc $GPUPOOL_CHAIN_RPC, --contract $GPUPOOL_CHAIN_CONTRACT,
       key from $GPUPOOL_CHAIN_KEY; amounts in tokens, e.g. 1.5, or in wei with a suffix: 42wei;
       durations like 90s, 30m, 12h, 7d)

        status [ADDRESS]                       contract version, owner, delays; with ADDRESS its
                                               escrow, limits granted to --reporter, provider state
        owner deploy --thaw DURATION --admin-delay DURATION
        owner propose-reporter ADDRESS | activate-reporter ADDRESS | remove-reporter ADDRESS
        owner transfer-ownership ADDRESS       the new owner then runs: owner accept-ownership
        owner propose-provider PROVIDER PAYOUT | confirm-provider PROVIDER | cancel-provider PROVIDER
        owner propose-verifier ADDRESS | activate-verifier ADDRESS | remove-verifier ADDRESS
        owner propose-trust WINDOW SLASH% REWARD%  challenge window, share of stake a fraud slashes,
                                               share of that for the whistleblower (after the delay:)
        owner apply-trust
        payer deposit AMOUNT [--for ADDRESS]
        payer limit REPORTER AMOUNT PERIOD     let REPORTER charge at most AMOUNT per PERIOD (0 = none)
        payer thaw AMOUNT | cancel-thaw | withdraw
        provider register PAYOUT | withdraw | cancel-proposal
        provider stake AMOUNT | unstake AMOUNT | cancel-unstake | withdraw-stake
        provider expire-dispute PAYER JOB PROVIDER
                                               end a dispute open for the contract's
                                               DISPUTE_DEADLINE (30 days) as no fraud (any key)
        verifier dispute open PAYER JOB PROVIDER AMOUNT EVIDENCE_HASH [--whistleblower ADDRESS]
        verifier dispute resolve PAYER JOB PROVIDER fraud|no-fraud
                                               JOB is the job id the operator settles under (its
                                               UID); EVIDENCE_HASH 0x and 32 bytes of hex
        verifier slash-stake PROVIDER EVIDENCE_HASH [--whistleblower ADDRESS]
                                               slash one share of PROVIDER's stake for fraud
                                               proven without a paid pair (a wrong challenge
                                               answer); once per provider per challenge window
        verifier resume                        finish the disputes an earlier run left unconfirmed
                                               (disputes are kept in an outbox file until mined:
                                               --outbox FILE, default $GPUPOOL_CHAIN_OUTBOX or
                                               ~/.gpupool/outbox-CHAIN-CONTRACT-SIGNER.properties;
                                               a dropped one is sent again, a stuck one replaced
                                               with a higher fee after --replace-after, default
                                               3m; --wait DURATION, default 10m)
        whistleblower withdraw-reward
      """;

  private static final Pattern DURATION = Pattern.compile("(\\d+)([smhd])");
  private static final BigInteger GAS_PERCENT = BigInteger.valueOf(130);

  private final PrintStream out;
  private final Map<String, String> env;
  private final RevertDecoder decoder = RevertDecoder.forGpuPoolBilling();

  ChainCli(PrintStream out, Map<String, String> env) {
    this.out = out;
    this.env = env;
  }

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err, System.getenv()));
  }

  /** Runs one command; returns the exit code (0 ok, 1 refused or failed, 2 usage). */
  public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
    try {
      new ChainCli(out, env).dispatch(Args.parse(args));
      return 0;
    } catch (UsageException e) {
      err.println("gpupool chain: " + e.getMessage());
      err.print(USAGE);
      return 2;
    } catch (RuntimeException e) {
      // Messages never contain the key: KeySource names only where it came from.
      err.println("gpupool chain: " + e.getMessage());
      return 1;
    }
  }

  private void dispatch(Args a) {
    String role = a.positional(0, "role");
    if (role.equals("status")) {
      status(a);
      return;
    }
    String action = a.positional(1, "action");
    switch (role + " " + action) {
      case "owner deploy" -> deploy(a);
      case "owner propose-reporter" -> send(a, fn("proposeReporter", addr(a, 2)));
      case "owner activate-reporter" -> send(a, fn("activateReporter", addr(a, 2)));
      case "owner remove-reporter" -> send(a, fn("removeReporter", addr(a, 2)));
      case "owner transfer-ownership" -> send(a, fn("transferOwnership", addr(a, 2)));
      case "owner accept-ownership" -> send(a, fn("acceptOwnership"));
      case "owner propose-provider" -> send(a, fn("proposeProvider", addr(a, 2), addr(a, 3)));
      case "owner confirm-provider" -> send(a, fn("confirmProvider", addr(a, 2)));
      case "owner cancel-provider" -> send(a, fn("cancelProviderProposal", addr(a, 2)));
      case "payer deposit" -> {
        BigInteger wei = amount(a.positional(2, "AMOUNT"));
        String forWhom = a.option("for");
        Function f = forWhom == null ? fn("deposit") : fn("depositFor", new Address(forWhom));
        send(a, f, wei);
      }
      case "payer limit" -> {
        BigInteger wei = amount(a.positional(3, "AMOUNT"));
        if (wei.bitLength() > 96) {
          throw new IllegalArgumentException("a limit is at most 2^96 - 1 wei");
        }
        long seconds = duration(a.positional(4, "PERIOD")).toSeconds();
        if (seconds < 1 || seconds > 0xFFFFFFFFL) {
          throw new IllegalArgumentException("PERIOD must be between 1 s and 136 years");
        }
        send(a, fn("setSpendingLimit", addr(a, 2), new Uint96(wei), new Uint32(seconds)));
      }
      case "payer thaw" -> send(a, fn("startThaw", new Uint256(amount(a.positional(2, "AMOUNT")))));
      case "payer cancel-thaw" -> send(a, fn("cancelThaw"));
      case "payer withdraw" -> send(a, fn("withdrawEscrow"));
      case "provider register" -> send(a, fn("registerProvider", addr(a, 2)));
      case "provider withdraw" -> send(a, fn("withdraw"));
      case "owner propose-verifier" -> send(a, fn("proposeVerifier", addr(a, 2)));
      case "owner activate-verifier" -> send(a, fn("activateVerifier", addr(a, 2)));
      case "owner remove-verifier" -> send(a, fn("removeVerifier", addr(a, 2)));
      case "owner propose-trust" -> {
        long window = duration(a.positional(2, "WINDOW")).toSeconds();
        send(
            a,
            fn(
                "proposeTrustParameters",
                new Uint64(window),
                new Uint16(basisPoints(a.positional(3, "SLASH%"))),
                new Uint16(basisPoints(a.positional(4, "REWARD%")))));
      }
      case "owner apply-trust" -> send(a, fn("applyTrustParameters"));
      case "provider stake" -> send(a, fn("stake"), amount(a.positional(2, "AMOUNT")));
      case "provider unstake" ->
          send(a, fn("startUnstake", new Uint256(amount(a.positional(2, "AMOUNT")))));
      case "provider cancel-unstake" -> send(a, fn("cancelUnstake"));
      case "provider withdraw-stake" -> send(a, fn("withdrawStake"));
      case "provider expire-dispute" ->
          send(
              a,
              fn(
                  "expireDispute",
                  addr(a, 2),
                  new Bytes16(PairId.jobIdHash(a.positional(3, "JOB"))),
                  addr(a, 4)));
      case "whistleblower withdraw-reward" -> send(a, fn("withdrawReward"));
      case "verifier dispute" -> dispute(a);
      case "verifier slash-stake" -> slashStake(a);
      case "verifier resume" -> throughOutbox(a, key(a), null);
      case "provider cancel-proposal" -> {
        Credentials key = key(a);
        send(a, key, fn("cancelProviderProposal", new Address(key.getAddress())), BigInteger.ZERO);
      }
      default -> throw new UsageException("unknown command: " + role + " " + action);
    }
  }

  // ------------------------------------------------------------------ commands

  private void slashStake(Args a) {
    String provider = addr(a, 2).getValue();
    byte[] hash = evidenceHash(a.positional(3, "EVIDENCE_HASH"));
    Credentials key = key(a);
    String wb = whistleblower(a, key);
    throughOutbox(a, key, trust -> trust.slashStake(provider, hash, wb));
  }

  private static byte[] evidenceHash(String evidence) {
    if (!evidence.matches("0x[0-9a-fA-F]{64}")) {
      throw new UsageException("EVIDENCE_HASH is not 0x and 32 bytes of hex: " + evidence);
    }
    return Numeric.hexStringToByteArray(evidence);
  }

  /** {@code --whistleblower}, or the signing key's own address. */
  private static String whistleblower(Args a, Credentials key) {
    String whistleblower = a.option("whistleblower");
    if (whistleblower != null && !WalletUtils.isValidAddress(whistleblower)) {
      throw new UsageException("--whistleblower is not an address: " + whistleblower);
    }
    return whistleblower == null ? key.getAddress() : whistleblower;
  }

  private void dispute(Args a) {
    String what = a.positional(2, "open|resolve");
    String payer = addr(a, 3).getValue();
    String job = a.positional(4, "JOB");
    String provider = addr(a, 5).getValue();
    PairId pair = new PairId(job, payer, provider);
    switch (what) {
      case "open" -> {
        BigInteger wei = amount(a.positional(6, "AMOUNT"));
        byte[] hash = evidenceHash(a.positional(7, "EVIDENCE_HASH"));
        Credentials key = key(a);
        String wb = whistleblower(a, key);
        throughOutbox(a, key, trust -> trust.openDispute(pair, wei, hash, wb));
      }
      case "resolve" -> {
        String verdict = a.positional(6, "fraud|no-fraud");
        if (!verdict.equals("fraud") && !verdict.equals("no-fraud")) {
          throw new UsageException("the verdict is fraud or no-fraud, not " + verdict);
        }
        throughOutbox(a, key(a), trust -> trust.resolveDispute(pair, verdict.equals("fraud")));
      }
      default -> throw new UsageException("verifier dispute takes open or resolve, not " + what);
    }
  }

  /**
   * Send {@code call} (none: only finish what an earlier run left) the way the operator sends its
   * disputes: dry run, sign above every nonce the outbox holds, persist, broadcast; then drive the
   * settlement loop's rounds until every transaction of the outbox is mined (a dropped one is sent
   * again byte for byte, a stuck one replaced with the same nonce and a higher fee). If {@code
   * --wait} runs out first the outbox file keeps them and the next run finishes them.
   */
  private void throughOutbox(
      Args a, Credentials key, java.util.function.Function<OutboxTrustChain, String> call) {
    Duration wait = duration(a.option("wait") == null ? "10m" : a.option("wait"));
    String contract = contract(a);
    Web3j web3j = web3j(a);
    long chainId;
    try {
      chainId = web3j.ethChainId().send().getChainId().longValueExact();
    } catch (java.io.IOException e) {
      web3j.shutdown();
      throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
    }
    ChainConfig config = ChainConfig.of(orEnv(a, "rpc", "GPUPOOL_CHAIN_RPC"), contract, chainId);
    try (Web3jBillingChain chain = new Web3jBillingChain(config, key, web3j)) {
      FileOutbox store = new FileOutbox(outboxFile(a, chainId, contract, key));
      try (FileOutbox.Held held = store.lock()) {
        SettlementService loop =
            new SettlementService(
                SettlementConfig.defaults()
                    .withReconcileFromBlock(chain.latestBlock())
                    .withStuckAfter(stuckAfter(a)),
                new BillingLedger(store),
                chain,
                Clock.systemUTC());
        Map<Long, OutboxEntry> seen = new TreeMap<>();
        store.outbox().forEach(e -> seen.put(e.nonce(), e));
        if (!seen.isEmpty()) {
          out.println(
              "resuming " + seen.size() + " unconfirmed transaction(s) from " + store.file());
        }
        if (call != null) {
          String hash = call.apply(new OutboxTrustChain(chain, chain, loop));
          out.println(
              "sent " + hash + " from " + key.getAddress() + " (kept in " + store.file() + ")");
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
          store.outbox().forEach(e -> seen.put(e.nonce(), e));
          if (store.outbox().isEmpty()) {
            break;
          }
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(
                store.outbox().size()
                    + " transaction(s) not mined after "
                    + wait
                    + "; kept in "
                    + store.file()
                    + ": run ./gpupool chain verifier resume to finish them");
          }
          loop.runOnce().errors().forEach(e -> out.println("  " + e));
          store.outbox().forEach(e -> seen.put(e.nonce(), e));
          if (!store.outbox().isEmpty()) {
            sleep(Duration.ofSeconds(1));
          }
        }
        reportMined(chain, seen.values());
      }
    }
  }

  /** What became of each transaction that left the outbox; fails when one did not succeed. */
  private void reportMined(Web3jBillingChain chain, java.util.Collection<OutboxEntry> done) {
    List<String> failed = new ArrayList<>();
    for (OutboxEntry e : done) {
      Optional<SettlementReceipt> mined = Optional.empty();
      for (String hash : e.allHashes()) {
        mined = chain.receipt(hash);
        if (mined.isPresent()) {
          break;
        }
      }
      if (mined.isEmpty()) {
        failed.add(e.call() + ": not mined (its nonce was taken by another transaction)");
      } else if (!mined.get().success()) {
        failed.add(e.call() + ": reverted: " + mined.get().revertReason());
      } else {
        out.println(
            e.call()
                + ": mined in block "
                + mined.get().blockNumber()
                + ", tx "
                + mined.get().txHash()
                + ", gas "
                + mined.get().gasUsed()
                + (e.attempt() > 0 ? " (replacement " + e.attempt() + ")" : ""));
      }
    }
    if (!failed.isEmpty()) {
      throw new IllegalStateException(String.join("; ", failed));
    }
  }

  private Path outboxFile(Args a, long chainId, String contract, Credentials key) {
    String file = a.option("outbox") != null ? a.option("outbox") : env.get("GPUPOOL_CHAIN_OUTBOX");
    if (file != null && !file.isBlank()) {
      return Path.of(file);
    }
    return Path.of(
        System.getProperty("user.home"),
        ".gpupool",
        ("outbox-" + chainId + "-" + contract + "-" + key.getAddress() + ".properties")
            .toLowerCase(Locale.ROOT));
  }

  private static Duration stuckAfter(Args a) {
    String v = a.option("replace-after");
    return v == null ? SettlementConfig.defaults().stuckAfter() : duration(v);
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted; the outbox keeps what is unconfirmed", e);
    }
  }

  /** A percentage such as 50 or 12.5 as basis points (0..10,000). */
  static long basisPoints(String percent) {
    BigDecimal bps;
    try {
      bps =
          new BigDecimal(
                  percent.endsWith("%") ? percent.substring(0, percent.length() - 1) : percent)
              .movePointRight(2);
    } catch (NumberFormatException e) {
      throw new UsageException("not a percentage: " + percent);
    }
    if (bps.signum() < 0
        || bps.compareTo(BigDecimal.valueOf(10_000)) > 0
        || bps.stripTrailingZeros().scale() > 0) {
      throw new UsageException(
          "a share is a percentage between 0 and 100 with at most two decimals: " + percent);
    }
    return bps.setScale(0).longValueExact();
  }

  private void deploy(Args a) {
    Duration thaw = duration(a.required("thaw"));
    Duration delay = duration(a.required("admin-delay"));
    Credentials key = key(a);
    Web3j web3j = web3j(a);
    try {
      String data =
          GpuPoolBilling.BINARY
              + FunctionEncoder.encodeConstructor(
                  List.of(new Uint64(thaw.toSeconds()), new Uint64(delay.toSeconds())));
      TransactionReceipt r = transact(web3j, key, null, data, BigInteger.ZERO);
      out.println("deployed GpuPoolBilling at " + r.getContractAddress());
      out.println(
          "block " + r.getBlockNumber() + " (reconcile from here), owner " + key.getAddress());
      out.println("thaw period " + thaw + ", admin delay " + delay);
    } finally {
      web3j.shutdown();
    }
  }

  private void status(Args a) {
    Web3j web3j = web3j(a);
    String contract = contract(a);
    try {
      View v = new View(web3j, contract);
      out.println("contract " + contract);
      out.println("version " + v.read("VERSION", UINT256).uint(0));
      out.println("owner " + v.read("owner", ADDRESS).address(0));
      out.println("pending owner " + v.read("pendingOwner", ADDRESS).address(0));
      out.println("thaw period " + v.read("thawPeriod", UINT64).uint64(0) + " s");
      out.println("admin delay " + v.read("adminDelay", UINT64).uint64(0) + " s");
      out.println(
          "challenge window "
              + v.read("challengeWindow", UINT64).uint64(0)
              + " s, slash "
              + v.read("slashShareBps", UINT16).uint(0)
              + " bps of stake, whistleblower "
              + v.read("whistleblowerShareBps", UINT16).uint(0)
              + " bps of that");
      String who = a.positionalOrNull(1);
      if (who == null) {
        return;
      }
      if (!WalletUtils.isValidAddress(who)) {
        throw new UsageException("not an address: " + who);
      }
      Address w = new Address(who);
      Answer escrow = v.read("escrowOf", List.of(w), UINT256, UINT256, UINT64);
      out.println("escrow " + tokens(escrow.uint(0)) + " (thawing " + tokens(escrow.uint(1)) + ")");
      out.println("reporter " + who + ": " + v.read("isReporter", List.of(w), BOOL).bool(0));
      out.println(
          "provider "
              + who
              + ": registered "
              + v.read("isRegisteredProvider", List.of(w), BOOL).bool(0)
              + ", balance "
              + tokens(v.read("providerBalance", List.of(w), UINT256).uint(0))
              + ", payout "
              + v.read("payoutAddress", List.of(w), ADDRESS).address(0));
      Answer stake = v.read("stakeOf", List.of(w), UINT256, UINT256, UINT64);
      Answer maturing = v.read("maturingOf", List.of(w), UINT256, UINT64);
      out.println(
          "stake "
              + tokens(stake.uint(0))
              + " (unstaking "
              + tokens(stake.uint(1))
              + "), earnings in the challenge window "
              + tokens(maturing.uint(0))
              + ", reward "
              + tokens(v.read("rewardBalance", List.of(w), UINT256).uint(0)));
      out.println("verifier " + who + ": " + v.read("isVerifier", List.of(w), BOOL).bool(0));
      String reporter = a.option("reporter");
      if (reporter != null) {
        if (!WalletUtils.isValidAddress(reporter)) {
          throw new UsageException("--reporter is not an address: " + reporter);
        }
        Answer l =
            v.read(
                "spendingLimit",
                List.of(w, new Address(reporter)),
                UINT256,
                UINT256,
                UINT256,
                UINT256,
                UINT256);
        out.println(
            "limit for "
                + reporter
                + ": "
                + tokens(l.uint(0))
                + " per "
                + l.uint(1)
                + " s, spent "
                + tokens(l.uint(2))
                + ", available now "
                + tokens(l.uint(4)));
      }
    } finally {
      web3j.shutdown();
    }
  }

  private void send(Args a, Function f) {
    send(a, key(a), f, BigInteger.ZERO);
  }

  private void send(Args a, Function f, BigInteger value) {
    send(a, key(a), f, value);
  }

  private void send(Args a, Credentials key, Function f, BigInteger value) {
    Web3j web3j = web3j(a);
    try {
      TransactionReceipt r = transact(web3j, key, contract(a), FunctionEncoder.encode(f), value);
      out.println(
          f.getName()
              + " from "
              + key.getAddress()
              + ": mined in block "
              + r.getBlockNumber()
              + ", tx "
              + r.getTransactionHash()
              + ", gas "
              + r.getGasUsed());
    } finally {
      web3j.shutdown();
    }
  }

  // ------------------------------------------------------------------ chain access

  private TransactionReceipt transact(
      Web3j web3j, Credentials key, String to, String data, BigInteger value) {
    try {
      long chainId = web3j.ethChainId().send().getChainId().longValueExact();
      Transaction call =
          to == null
              ? Transaction.createContractTransaction(
                  key.getAddress(), null, null, null, value, data)
              : Transaction.createFunctionCallTransaction(
                  key.getAddress(), null, null, null, to, value, data);
      EthEstimateGas estimate = web3j.ethEstimateGas(call).send();
      if (estimate.hasError()) {
        Object d = estimate.getError().getData();
        throw new IllegalStateException(
            "the contract refuses: "
                + decoder.decode((d == null ? "" : d + " ") + estimate.getError().getMessage()));
      }
      BigInteger gasLimit =
          estimate.getAmountUsed().multiply(GAS_PERCENT).divide(BigInteger.valueOf(100));
      BigInteger gasPrice =
          web3j
              .ethGasPrice()
              .send()
              .getGasPrice()
              .multiply(BigInteger.valueOf(125))
              .divide(BigInteger.valueOf(100));
      RawTransactionManager tm = new RawTransactionManager(web3j, key, chainId);
      EthSendTransaction sent =
          tm.sendTransaction(gasPrice, gasLimit, to == null ? "" : to, data, value);
      if (sent.hasError()) {
        throw new IllegalStateException(
            "the node refused the transaction: " + sent.getError().getMessage());
      }
      TransactionReceipt r =
          new PollingTransactionReceiptProcessor(web3j, 500, 240)
              .waitForTransactionReceipt(sent.getTransactionHash());
      if (!r.isStatusOK()) {
        throw new IllegalStateException("transaction " + r.getTransactionHash() + " reverted");
      }
      return r;
    } catch (java.io.IOException e) {
      throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
    } catch (org.web3j.protocol.exceptions.TransactionException e) {
      throw new IllegalStateException("no receipt: " + e.getMessage(), e);
    }
  }

  /** The contract's views, each answer decoded by {@link ContractView} against its types. */
  private record View(Web3j web3j, String contract) {
    Answer read(String name, Out... outputs) {
      return read(name, List.of(), outputs);
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    Answer read(String name, List<? extends Type> args, Out... outputs) {
      Function f = ContractView.function(name, (List) args, outputs);
      EthCall r;
      try {
        r =
            web3j
                .ethCall(
                    Transaction.createEthCallTransaction(null, contract, FunctionEncoder.encode(f)),
                    DefaultBlockParameterName.LATEST)
                .send();
      } catch (java.io.IOException e) {
        throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
      }
      if (r.hasError() || r.isReverted()) {
        throw new IllegalStateException(
            name + " failed: is " + contract + " a GpuPoolBilling contract?");
      }
      return ContractView.decode(f, r.getValue(), contract);
    }
  }

  private static String tokens(BigInteger wei) {
    return TokenUnits.fromWei(wei).toPlainString() + " (" + wei + " wei)";
  }

  private static Function fn(String name, Type<?>... inputs) {
    return new Function(name, List.of(inputs), List.of());
  }

  // ------------------------------------------------------------------ options

  private Web3j web3j(Args a) {
    return Web3j.build(new HttpService(orEnv(a, "rpc", "GPUPOOL_CHAIN_RPC")));
  }

  private String contract(Args a) {
    String c = orEnv(a, "contract", "GPUPOOL_CHAIN_CONTRACT");
    if (!WalletUtils.isValidAddress(c)) {
      throw new UsageException("--contract is not an address: " + c);
    }
    return c;
  }

  private Credentials key(Args a) {
    String file = a.option("key-file");
    if (file != null) {
      return KeySource.fromSecretFile(Path.of(file));
    }
    String var = a.option("key-env") != null ? a.option("key-env") : "GPUPOOL_CHAIN_KEY";
    String value = env.get(var);
    if (value == null || value.isBlank()) {
      throw new UsageException("no key: give --key-file FILE or set " + var);
    }
    return KeySource.parse(value, "environment variable " + var);
  }

  private String orEnv(Args a, String option, String var) {
    String v = a.option(option);
    if (v == null) {
      v = env.get(var);
    }
    if (v == null || v.isBlank()) {
      throw new UsageException("--" + option + " is required (or set " + var + ")");
    }
    return v;
  }

  private static Address addr(Args a, int index) {
    String v = a.positional(index, "ADDRESS");
    if (!WalletUtils.isValidAddress(v)) {
      throw new UsageException("not an address: " + v);
    }
    return new Address(v);
  }

  static BigInteger amount(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    try {
      BigInteger wei =
          t.endsWith("wei") ? new BigInteger(t.substring(0, t.length() - 3)) : TokenUnits.toWei(t);
      if (wei.signum() < 0) {
        throw new UsageException("amount must not be negative: " + text);
      }
      return wei;
    } catch (NumberFormatException | ArithmeticException e) {
      throw new UsageException("not an amount: " + text + " (tokens like 1.5, or 42wei)");
    }
  }

  static Duration duration(String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new UsageException("not a duration: " + text + " (like 90s, 30m, 12h, 7d)");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /** A wrong command line: exit code 2 and the usage text. */
  static final class UsageException extends IllegalArgumentException {
    UsageException(String message) {
      super(message);
    }
  }

  /** Positional words and {@code --name value} options. */
  record Args(List<String> positional, Map<String, String> options) {
    static Args parse(String[] args) {
      List<String> pos = new ArrayList<>();
      Map<String, String> opts = new HashMap<>();
      for (int i = 0; i < args.length; i++) {
        if (args[i].startsWith("--")) {
          if (i + 1 >= args.length) {
            throw new UsageException(args[i] + " needs a value");
          }
          opts.put(args[i].substring(2), args[++i]);
        } else {
          pos.add(args[i]);
        }
      }
      return new Args(pos, opts);
    }

    String positional(int i, String what) {
      if (i >= positional.size()) {
        throw new UsageException("missing " + what);
      }
      return positional.get(i);
    }

    String positionalOrNull(int i) {
      return i < positional.size() ? positional.get(i) : null;
    }

    String option(String name) {
      return options.get(name);
    }

    String required(String name) {
      String v = options.get(name);
      if (v == null) {
        throw new UsageException("--" + name + " is required");
      }
      return v;
    }
  }
}
