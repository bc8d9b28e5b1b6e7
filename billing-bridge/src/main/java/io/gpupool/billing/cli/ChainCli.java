package io.gpupool.billing.cli;

import static io.gpupool.billing.cli.Args.amount;
import static io.gpupool.billing.cli.Args.basisPoints;
import static io.gpupool.billing.cli.Args.duration;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.ProviderEarnings;
import io.gpupool.billing.contract.GpuPoolBilling;
import java.io.PrintStream;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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
import org.web3j.protocol.core.methods.response.TransactionReceipt;
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
        provider register PAYOUT | collect | withdraw | cancel-proposal
                                               collect moves the key's matured earnings out of
                                               its pairs; withdraw collects, then pays out
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

  private final PrintStream out;
  private final Map<String, String> env;

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
      ContractStatus.print(a, chain(a), out);
      return;
    }
    String action = a.positional(1, "action");
    switch (role + " " + action) {
      case "owner deploy" -> deploy(a);
      case "owner propose-reporter" -> send(a, fn("proposeReporter", a.address(2)));
      case "owner activate-reporter" -> send(a, fn("activateReporter", a.address(2)));
      case "owner remove-reporter" -> send(a, fn("removeReporter", a.address(2)));
      case "owner transfer-ownership" -> send(a, fn("transferOwnership", a.address(2)));
      case "owner accept-ownership" -> send(a, fn("acceptOwnership"));
      case "owner propose-provider" -> send(a, fn("proposeProvider", a.address(2), a.address(3)));
      case "owner confirm-provider" -> send(a, fn("confirmProvider", a.address(2)));
      case "owner cancel-provider" -> send(a, fn("cancelProviderProposal", a.address(2)));
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
        send(a, fn("setSpendingLimit", a.address(2), new Uint96(wei), new Uint32(seconds)));
      }
      case "payer thaw" -> send(a, fn("startThaw", new Uint256(amount(a.positional(2, "AMOUNT")))));
      case "payer cancel-thaw" -> send(a, fn("cancelThaw"));
      case "payer withdraw" -> send(a, fn("withdrawEscrow"));
      case "provider register" -> send(a, fn("registerProvider", a.address(2)));
      case "provider collect" -> collect(a, chain(a).key());
      case "provider withdraw" -> {
        // Contract version 6 keeps earnings in each pair until collected: collect the matured
        // pairs first, so withdraw pays everything out of the challenge window.
        Credentials key = chain(a).key();
        collect(a, key);
        send(a, key, fn("withdraw"), BigInteger.ZERO);
      }
      case "owner propose-verifier" -> send(a, fn("proposeVerifier", a.address(2)));
      case "owner activate-verifier" -> send(a, fn("activateVerifier", a.address(2)));
      case "owner remove-verifier" -> send(a, fn("removeVerifier", a.address(2)));
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
                  a.address(2),
                  new Bytes16(PairId.jobIdHash(a.positional(3, "JOB"))),
                  a.address(4)));
      case "whistleblower withdraw-reward" -> send(a, fn("withdrawReward"));
      case "verifier dispute" -> dispute(a);
      case "verifier slash-stake" -> slashStake(a);
      case "verifier resume" -> outbox(a).run(a, chain(a).key(), null);
      case "provider cancel-proposal" -> {
        Credentials key = chain(a).key();
        send(a, key, fn("cancelProviderProposal", new Address(key.getAddress())), BigInteger.ZERO);
      }
      default -> throw new UsageException("unknown command: " + role + " " + action);
    }
  }

  // ------------------------------------------------------------------ commands

  /** Collect the key's matured earnings out of its pairs (found from its Settled events). */
  private void collect(Args a, Credentials key) {
    ChainAccess chain = chain(a);
    Web3j web3j = chain.web3j();
    Function call;
    try {
      long chainId = web3j.ethChainId().send().getChainId().longValueExact();
      ChainConfig config =
          ChainConfig.of(chain.orEnv("rpc", "GPUPOOL_CHAIN_RPC"), chain.contract(), chainId);
      call = ProviderEarnings.over(config, web3j).collectCall(key.getAddress());
    } catch (java.io.IOException e) {
      throw new IllegalStateException("RPC failed: " + e.getMessage(), e);
    } finally {
      web3j.shutdown();
    }
    if (call == null) {
      out.println("collect: no pair of " + key.getAddress() + " holds matured earnings");
      return;
    }
    send(a, key, call, BigInteger.ZERO);
  }

  private void slashStake(Args a) {
    String provider = a.address(2).getValue();
    byte[] hash = evidenceHash(a.positional(3, "EVIDENCE_HASH"));
    Credentials key = chain(a).key();
    String wb = whistleblower(a, key);
    outbox(a).run(a, key, trust -> trust.slashStake(provider, hash, wb));
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
    String payer = a.address(3).getValue();
    String job = a.positional(4, "JOB");
    String provider = a.address(5).getValue();
    PairId pair = new PairId(job, payer, provider);
    switch (what) {
      case "open" -> {
        BigInteger wei = amount(a.positional(6, "AMOUNT"));
        byte[] hash = evidenceHash(a.positional(7, "EVIDENCE_HASH"));
        Credentials key = chain(a).key();
        String wb = whistleblower(a, key);
        outbox(a).run(a, key, trust -> trust.openDispute(pair, wei, hash, wb));
      }
      case "resolve" -> {
        String verdict = a.positional(6, "fraud|no-fraud");
        if (!verdict.equals("fraud") && !verdict.equals("no-fraud")) {
          throw new UsageException("the verdict is fraud or no-fraud, not " + verdict);
        }
        outbox(a)
            .run(a, chain(a).key(), trust -> trust.resolveDispute(pair, verdict.equals("fraud")));
      }
      default -> throw new UsageException("verifier dispute takes open or resolve, not " + what);
    }
  }

  private void deploy(Args a) {
    Duration thaw = duration(a.required("thaw"));
    Duration delay = duration(a.required("admin-delay"));
    ChainAccess chain = chain(a);
    Credentials key = chain.key();
    Web3j web3j = chain.web3j();
    try {
      String data =
          GpuPoolBilling.BINARY
              + FunctionEncoder.encodeConstructor(
                  List.of(new Uint64(thaw.toSeconds()), new Uint64(delay.toSeconds())));
      TransactionReceipt r = chain.transact(web3j, key, null, data, BigInteger.ZERO);
      out.println("deployed GpuPoolBilling at " + r.getContractAddress());
      out.println(
          "block " + r.getBlockNumber() + " (reconcile from here), owner " + key.getAddress());
      out.println("thaw period " + thaw + ", admin delay " + delay);
    } finally {
      web3j.shutdown();
    }
  }

  private void send(Args a, Function f) {
    send(a, chain(a).key(), f, BigInteger.ZERO);
  }

  private void send(Args a, Function f, BigInteger value) {
    send(a, chain(a).key(), f, value);
  }

  private void send(Args a, Credentials key, Function f, BigInteger value) {
    ChainAccess chain = chain(a);
    Web3j web3j = chain.web3j();
    try {
      TransactionReceipt r =
          chain.transact(web3j, key, chain.contract(), FunctionEncoder.encode(f), value);
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

  /** Where this command connects and signs. */
  private ChainAccess chain(Args a) {
    return new ChainAccess(a, env);
  }

  private OutboxRun outbox(Args a) {
    return new OutboxRun(out, env, chain(a));
  }

  private static Function fn(String name, Type<?>... inputs) {
    return new Function(name, List.of(inputs), List.of());
  }
}
