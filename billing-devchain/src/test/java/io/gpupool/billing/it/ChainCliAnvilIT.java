package io.gpupool.billing.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.cli.ChainCli;
import io.gpupool.billing.devchain.AnvilProcess;
import io.gpupool.billing.devchain.DevAccounts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

/**
 * {@code ./gpupool chain} for every role against anvil, with keys from files and from the
 * environment: the owner deploys with an admin delay and adds a reporter only after it, a payer
 * funds, limits, thaws and withdraws, a provider registers and withdraws to its payout address, the
 * owner rotates the reporter and hands ownership over. No output ever contains a key.
 */
class ChainCliAnvilIT {
  static AnvilProcess anvil;
  static Web3j web3j;
  @TempDir static Path dir;

  final Credentials owner = DevAccounts.account(0);
  final Credentials reporter = DevAccounts.account(1);
  final Credentials payer = DevAccounts.account(2);
  final Credentials provider = DevAccounts.account(6);
  final Credentials nextOwner = DevAccounts.account(3);
  final String payout = DevAccounts.account(9).getAddress();
  final List<String> printed = new ArrayList<>();

  @BeforeAll
  static void start() {
    anvil = AnvilProcess.start();
    web3j = Web3j.build(new HttpService(anvil.rpcUrl()));
  }

  @AfterAll
  static void stop() {
    if (web3j != null) {
      web3j.shutdown();
    }
    if (anvil != null) {
      anvil.close();
    }
  }

  record Result(int code, String out, String err) {}

  Result cli(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--rpc", anvil.rpcUrl()));
    int code =
        ChainCli.run(
            all.toArray(String[]::new),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env);
    Result r =
        new Result(
            code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    printed.add(r.out() + r.err());
    return r;
  }

  Result ok(Map<String, String> env, String... args) {
    Result r = cli(env, args);
    assertThat(r.code()).as("%s\n%s", r.out(), r.err()).isZero();
    return r;
  }

  static String keyFile(Credentials c) throws Exception {
    Path f = dir.resolve(c.getAddress() + ".key");
    Files.writeString(
        f, Numeric.toHexStringNoPrefixZeroPadded(c.getEcKeyPair().getPrivateKey(), 64));
    return f.toString();
  }

  static String hexKey(Credentials c) {
    return Numeric.toHexStringNoPrefixZeroPadded(c.getEcKeyPair().getPrivateKey(), 64);
  }

  static BigInteger balance(String address) throws Exception {
    return web3j.ethGetBalance(address, DefaultBlockParameterName.LATEST).send().getBalance();
  }

  static void increaseTime(long seconds) throws Exception {
    new Request<>(
            "evm_increaseTime",
            List.of(seconds),
            new HttpService(anvil.rpcUrl()),
            AnvilTestBase.GenericResponse.class)
        .send();
    new Request<>(
            "evm_mine",
            List.of(),
            new HttpService(anvil.rpcUrl()),
            AnvilTestBase.GenericResponse.class)
        .send();
  }

  @Test
  void everyRoleDoesItsPartWithoutEverPrintingAKey() throws Exception {
    Map<String, String> none = Map.of();
    // owner: deploy with a one-hour admin delay, key from a file
    Result deployed =
        ok(
            none,
            "owner",
            "deploy",
            "--thaw",
            "1h",
            "--admin-delay",
            "1h",
            "--key-file",
            keyFile(owner));
    Matcher m =
        Pattern.compile("deployed GpuPoolBilling at (0x[0-9a-fA-F]{40})").matcher(deployed.out());
    assertThat(m.find()).as(deployed.out()).isTrue();
    String contract = m.group(1);
    String[] c = {"--contract", contract};
    String ownerKey = keyFile(owner);

    ok(
        none,
        cat(
            new String[] {
              "owner", "propose-reporter", reporter.getAddress(), "--key-file", ownerKey
            },
            c));
    Result early =
        cli(
            none,
            cat(
                new String[] {
                  "owner", "activate-reporter", reporter.getAddress(), "--key-file", ownerKey
                },
                c));
    assertThat(early.code()).isEqualTo(1);
    assertThat(early.err()).contains("the contract refuses: NotYet(");
    increaseTime(3600);
    ok(
        none,
        cat(
            new String[] {
              "owner", "activate-reporter", reporter.getAddress(), "--key-file", ownerKey
            },
            c));

    // payer: key from the environment
    Map<String, String> payerEnv = Map.of("GPUPOOL_CHAIN_KEY", "0x" + hexKey(payer));
    ok(payerEnv, cat(new String[] {"payer", "deposit", "2"}, c));
    ok(payerEnv, cat(new String[] {"payer", "limit", reporter.getAddress(), "1.5", "1d"}, c));
    ok(payerEnv, cat(new String[] {"payer", "thaw", "0.25"}, c));
    ok(payerEnv, cat(new String[] {"payer", "cancel-thaw"}, c));
    Result status =
        ok(
            none,
            cat(
                new String[] {"status", payer.getAddress(), "--reporter", reporter.getAddress()},
                c));
    assertThat(status.out())
        .contains("version " + Web3jBillingChain.EXPECTED_VERSION)
        .contains("escrow 2 (2000000000000000000 wei)")
        .contains(
            "limit for " + reporter.getAddress() + ": 1.5 (1500000000000000000 wei) per 86400 s");

    // provider: registers a payout address with its own key (env var of its choosing)
    Map<String, String> providerEnv = Map.of("PROVIDER_KEY", hexKey(provider));
    ok(
        providerEnv,
        cat(new String[] {"provider", "register", payout, "--key-env", "PROVIDER_KEY"}, c));

    // the reporter settles 3 tokens of usage: the payer's limit lets 1.5 through
    PairId pair = new PairId("cli/job", payer.getAddress(), provider.getAddress());
    try (Web3jBillingChain chain =
        new Web3jBillingChain(
            ChainConfig.of(anvil.rpcUrl(), contract, anvil.chainId()), reporter)) {
      chain.requireContractVersion();
      BigInteger three = new BigInteger("3000000000000000000");
      assertThat(
              SettlementAnvilIT.waitFor(
                      chain, chain.submitSettlement(List.of(new SettlementItem(pair, three))))
                  .success())
          .isTrue();
      assertThat(chain.providerBalance(provider.getAddress()))
          .isEqualTo(new BigInteger("1500000000000000000"));
    }
    BigInteger before = balance(payout);
    ok(providerEnv, cat(new String[] {"provider", "withdraw", "--key-env", "PROVIDER_KEY"}, c));
    assertThat(balance(payout).subtract(before)).isEqualTo(new BigInteger("1500000000000000000"));

    // payer withdraws the rest after the thaw period
    ok(payerEnv, cat(new String[] {"payer", "thaw", "0.5"}, c));
    Result tooEarly = cli(payerEnv, cat(new String[] {"payer", "withdraw"}, c));
    assertThat(tooEarly.err()).contains("StillThawing(");
    increaseTime(3600);
    ok(payerEnv, cat(new String[] {"payer", "withdraw"}, c));
    Result after = ok(none, cat(new String[] {"status", payer.getAddress()}, c));
    assertThat(after.out()).contains("escrow 0 (0 wei)");

    // owner: revoke the reporter at once, hand the contract over in two steps
    ok(
        none,
        cat(
            new String[] {
              "owner", "remove-reporter", reporter.getAddress(), "--key-file", ownerKey
            },
            c));
    ok(
        none,
        cat(
            new String[] {
              "owner", "transfer-ownership", nextOwner.getAddress(), "--key-file", ownerKey
            },
            c));
    ok(none, cat(new String[] {"owner", "accept-ownership", "--key-file", keyFile(nextOwner)}, c));
    assertThat(ok(none, cat(new String[] {"status"}, c)).out())
        .contains("owner " + nextOwner.getAddress().toLowerCase());

    for (Credentials k : List.of(owner, reporter, payer, provider, nextOwner)) {
      assertThat(String.join("\n", printed)).doesNotContainIgnoringCase(hexKey(k));
    }
  }

  @Test
  void providersStakeAndAVerifierDisputesThroughTheCli() throws Exception {
    Map<String, String> none = Map.of();
    Result deployed =
        ok(
            none,
            "owner",
            "deploy",
            "--thaw",
            "1h",
            "--admin-delay",
            "0s",
            "--key-file",
            keyFile(owner));
    Matcher m =
        Pattern.compile("deployed GpuPoolBilling at (0x[0-9a-fA-F]{40})").matcher(deployed.out());
    assertThat(m.find()).as(deployed.out()).isTrue();
    String[] c = {"--contract", m.group(1)};
    String ownerKey = keyFile(owner);
    String verifier = reporter.getAddress();
    for (String[] cmd :
        List.of(
            new String[] {"owner", "propose-reporter", verifier},
            new String[] {"owner", "activate-reporter", verifier},
            new String[] {"owner", "propose-verifier", verifier},
            new String[] {"owner", "activate-verifier", verifier},
            new String[] {"owner", "propose-trust", "60s", "50", "12.5"},
            new String[] {"owner", "apply-trust"})) {
      ok(none, cat(cat(cmd, new String[] {"--key-file", ownerKey}), c));
    }
    Result badShare =
        cli(
            none,
            cat(
                new String[] {"owner", "propose-trust", "60s", "101", "0", "--key-file", ownerKey},
                c));
    assertThat(badShare.code()).isEqualTo(2);
    assertThat(badShare.err()).contains("between 0 and 100");

    Map<String, String> providerEnv = Map.of("GPUPOOL_CHAIN_KEY", hexKey(provider));
    ok(providerEnv, cat(new String[] {"provider", "register", provider.getAddress()}, c));
    ok(providerEnv, cat(new String[] {"provider", "stake", "2"}, c));
    Map<String, String> payerEnv = Map.of("GPUPOOL_CHAIN_KEY", hexKey(payer));
    ok(payerEnv, cat(new String[] {"payer", "deposit", "2"}, c));
    ok(payerEnv, cat(new String[] {"payer", "limit", verifier, "2", "1d"}, c));
    PairId pair = new PairId("cli/liar", payer.getAddress(), provider.getAddress());
    try (Web3jBillingChain chain =
        new Web3jBillingChain(
            ChainConfig.of(anvil.rpcUrl(), m.group(1), anvil.chainId()), reporter)) {
      SettlementAnvilIT.waitFor(
          chain,
          chain.submitSettlement(
              List.of(new SettlementItem(pair, new BigInteger("800000000000000000")))));
    }
    Result status = ok(none, cat(new String[] {"status", provider.getAddress()}, c));
    assertThat(status.out())
        .contains("challenge window 60 s, slash 5000 bps of stake, whistleblower 1250 bps of that")
        .contains("stake 2 (2000000000000000000 wei)")
        .contains("earnings withdrawable after collecting 0 (0 wei)")
        .contains("in the challenge window 0.8 (800000000000000000 wei)");

    String whistleblower = nextOwner.getAddress();
    String evidence = "0x" + "ab".repeat(32);
    String verifierKey = keyFile(reporter);
    Path outbox = dir.resolve("verifier-outbox.properties");
    String[] verifierOptions = {"--key-file", verifierKey, "--outbox", outbox.toString()};
    String[] dispute = {
      "verifier", "dispute", "open", payer.getAddress(), "cli/liar", provider.getAddress()
    };
    Result tooMuch =
        cli(none, cat(cat(dispute, new String[] {"0.9", evidence}), cat(verifierOptions, c)));
    assertThat(tooMuch.err()).contains("DisputeExceedsPaid(");
    assertThat(outboxHashes(outbox)).isEmpty(); // refused by the dry run: nothing kept

    // The node takes the dispute into its pool, does not mine it, and drops it: the transaction
    // stays in the tool's outbox and the next run sends the same bytes again.
    rpc("evm_setAutomine", false);
    Result unmined =
        cli(
            none,
            cat(
                cat(dispute, new String[] {"0.8", evidence, "--whistleblower", whistleblower}),
                cat(verifierOptions, cat(new String[] {"--wait", "2s"}, c))));
    assertThat(unmined.code()).as(unmined.out() + unmined.err()).isEqualTo(1);
    assertThat(unmined.err()).contains("kept in " + outbox).contains("verifier resume");
    List<String> hashes = outboxHashes(outbox);
    assertThat(hashes).hasSize(1);
    rpc("anvil_dropTransaction", hashes.get(0));
    assertThat(web3j.ethGetTransactionByHash(hashes.get(0)).send().getTransaction()).isEmpty();
    rpc("evm_setAutomine", true);
    Result resumed = ok(none, cat(new String[] {"verifier", "resume"}, cat(verifierOptions, c)));
    assertThat(resumed.out())
        .contains("resuming 1 unconfirmed transaction(s)")
        .contains("openDispute(")
        .contains(": mined in block")
        .contains("tx " + hashes.get(0));
    assertThat(outboxHashes(outbox)).isEmpty();
    ok(
        none,
        cat(
            new String[] {
              "verifier",
              "dispute",
              "resolve",
              payer.getAddress(),
              "cli/liar",
              provider.getAddress(),
              "fraud"
            },
            cat(verifierOptions, c)));
    // A second dispute nobody resolves: past the contract's 30-day deadline any key ends it as no
    // fraud and the provider's frozen earnings become withdrawable.
    try (Web3jBillingChain chain =
        new Web3jBillingChain(
            ChainConfig.of(anvil.rpcUrl(), m.group(1), anvil.chainId()), reporter)) {
      SettlementAnvilIT.waitFor(
          chain,
          chain.submitSettlement(
              List.of(new SettlementItem(pair, new BigInteger("1000000000000000000")))));
    }
    ok(none, cat(cat(dispute, new String[] {"0.2", evidence}), cat(verifierOptions, c)));
    String[] expire = {
      "provider", "expire-dispute", payer.getAddress(), "cli/liar", provider.getAddress()
    };
    assertThat(cli(providerEnv, cat(expire, c)).err()).contains("DisputeNotExpired(");
    increaseTime(30L * 24 * 3600);
    ok(providerEnv, cat(expire, c));
    assertThat(ok(none, cat(new String[] {"status", provider.getAddress()}, c)).out())
        .contains("balance 0.2 (200000000000000000 wei)");
    // Slashed 1 of 2; 12.5 % of that (0.125) to the whistleblower.
    assertThat(ok(none, cat(new String[] {"status", provider.getAddress()}, c)).out())
        .contains("stake 1 (1000000000000000000 wei)");
    assertThat(ok(none, cat(new String[] {"status", whistleblower}, c)).out())
        .contains("reward 0.125 (125000000000000000 wei)");
    BigInteger before = balance(whistleblower);
    ok(
        none,
        cat(
            new String[] {"whistleblower", "withdraw-reward", "--key-file", keyFile(nextOwner)},
            c));
    assertThat(balance(whistleblower)).isGreaterThan(before);
    // A wrong challenge answer with no paid pair: one share of the stake (0.5 of 1), 12.5 % of
    // it to the whistleblower, the rest burned; a second within the window is refused.
    String[] slash = {
      "verifier", "slash-stake", provider.getAddress(), evidence, "--whistleblower", whistleblower
    };
    ok(none, cat(slash, cat(verifierOptions, c)));
    assertThat(ok(none, cat(new String[] {"status", provider.getAddress()}, c)).out())
        .contains("stake 0.5 (500000000000000000 wei)");
    assertThat(ok(none, cat(new String[] {"status", whistleblower}, c)).out())
        .contains("reward 0.0625 (62500000000000000 wei)");
    assertThat(cli(none, cat(slash, cat(verifierOptions, c))).err()).contains("SlashTooSoon(");

    ok(providerEnv, cat(new String[] {"provider", "unstake", "0.5"}, c));
    assertThat(cli(providerEnv, cat(new String[] {"provider", "withdraw-stake"}, c)).err())
        .contains("StillThawingStake(");
    increaseTime(3600);
    ok(providerEnv, cat(new String[] {"provider", "withdraw-stake"}, c));
    assertThat(ok(none, cat(new String[] {"status", provider.getAddress()}, c)).out())
        .contains("stake 0 (0 wei)");
  }

  @Test
  void aMalformedKeyIsRefusedWithoutQuotingIt() throws Exception {
    String secret = "0x" + "ab".repeat(31); // 31 bytes: not a key
    Result r =
        cli(
            Map.of("GPUPOOL_CHAIN_KEY", secret),
            "payer",
            "deposit",
            "1",
            "--contract",
            owner.getAddress());
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("environment variable GPUPOOL_CHAIN_KEY does not hold a 32-byte hex private key");
    assertThat(r.err()).doesNotContain("abab");
    Result usage =
        cli(
            Map.of(),
            "payer",
            "limit",
            owner.getAddress(),
            "1",
            "often",
            "--contract",
            owner.getAddress());
    assertThat(usage.code()).isEqualTo(2);
    assertThat(usage.err()).contains("not a duration: often");
  }

  /** The transaction hashes the chain tool's outbox file holds (current versions). */
  static List<String> outboxHashes(Path file) throws Exception {
    if (!Files.exists(file)) {
      return List.of();
    }
    Properties p = new Properties();
    try (var r = Files.newBufferedReader(file)) {
      p.load(r);
    }
    return p.stringPropertyNames().stream()
        .filter(k -> k.endsWith(".txHash"))
        .map(p::getProperty)
        .sorted()
        .toList();
  }

  static void rpc(String method, Object... params) throws Exception {
    AnvilTestBase.GenericResponse r =
        new Request<>(
                method,
                List.of(params),
                new HttpService(anvil.rpcUrl()),
                AnvilTestBase.GenericResponse.class)
            .send();
    assertThat(r.hasError()).as("%s: %s", method, r.getError()).isFalse();
  }

  static String[] cat(String[] a, String[] b) {
    String[] r = new String[a.length + b.length];
    System.arraycopy(a, 0, r, 0, a.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
}
