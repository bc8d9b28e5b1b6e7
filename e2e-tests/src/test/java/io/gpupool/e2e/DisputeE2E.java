package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.cli.ChainCli;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.sandbox.chain.SandboxChain;
import io.gpupool.sandbox.kubelet.ChallengeAnswers;
import io.gpupool.sandbox.pool.PoolFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.web3j.utils.Numeric;

/**
 * A provider that earns first and cheats later, on the sandbox's chain, as a platform team sees it
 * with kubectl and {@code ./gpupool chain}: both providers stake and pass their joining challenge;
 * a paid job runs on each; while the H100 job runs, its node starts answering challenges wrongly
 * (the test sets the sandbox's dishonesty label, as the provider would swap its software); the next
 * random challenge catches it, the operator disputes what the job paid that is still inside the
 * challenge window, the fraud verdict returns it to the payer, slashes half the stake and rewards
 * the operator's address as whistleblower. The honest provider's earnings mature after the window
 * and it withdraws them. A third provider, shaped like the default pool's bargain-h100-hub, answers
 * its joining challenge wrongly on a node that never ran paid work: with nothing to dispute, its
 * stake is slashed once directly (half of it, half of that to the whistleblower) and, staked at 2
 * per GPU, it still covers the gate with what is left, so its genuine node stays in the pool.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DisputeE2E {
  static final String HONEST = "steady-gpus";
  static final String TURNCOAT = "turncoat-gpus";
  static final String TURNCOAT_NODE = "turncoat-h100-1";
  static final String LIAR = "liar-gpus";
  static final String LIAR_NODE = "liar-h100-1";
  static final int HONEST_ACCOUNT = 1;
  static final int TURNCOAT_ACCOUNT = 10;
  static final int LIAR_ACCOUNT = 11;

  /** The finetuning account of examples/billing-accounts.yaml (dev account 6). */
  static final String PAYER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";

  static final String POOL =
      """
      providers:
        - name: steady-gpus
          payoutAddress: "%s"
          region: us-east
          prices:
            NVIDIA-GeForce-RTX-4090: "0.44"
        - name: turncoat-gpus
          payoutAddress: "%s"
          region: us-east
          prices:
            NVIDIA-H100-80GB-HBM3: "2.49"
        - name: liar-gpus
          payoutAddress: "%s"
          region: us-east
          stakePerGpu: "2"
          prices:
            NVIDIA-H100-80GB-HBM3: "2.39"
            NVIDIA-GeForce-RTX-3090: "0.22"
      nodeGroups:
        - namePrefix: steady-4090
          count: 1
          provider: steady-gpus
          region: us-east
          zone: us-east-1a
          cpu: "32"
          memory: 128Gi
          gpu:
            product: NVIDIA-GeForce-RTX-4090
            count: 2
            memoryMiB: 24564
            family: ada-lovelace
            computeMajor: 8
            computeMinor: 9
        - namePrefix: turncoat-h100
          count: 1
          provider: turncoat-gpus
          region: us-east
          zone: us-east-1a
          cpu: "64"
          memory: 512Gi
          gpu:
            product: NVIDIA-H100-80GB-HBM3
            count: 2
            memoryMiB: 81559
            family: hopper
            computeMajor: 9
            computeMinor: 0
        - namePrefix: liar-h100
          count: 1
          provider: liar-gpus
          region: us-east
          zone: us-east-1b
          cpu: "64"
          memory: 512Gi
          labels:
            sandbox.gpupool.io/challenge-answer: wrong
          gpu:
            product: NVIDIA-H100-80GB-HBM3
            count: 1
            memoryMiB: 81559
            family: hopper
            computeMajor: 9
            computeMinor: 0
        - namePrefix: liar-3090
          count: 1
          provider: liar-gpus
          region: us-east
          zone: us-east-1b
          cpu: "16"
          memory: 64Gi
          gpu:
            product: NVIDIA-GeForce-RTX-3090
            count: 1
            memoryMiB: 24576
            family: ampere
            computeMajor: 8
            computeMinor: 6
      """
          .formatted(address(HONEST_ACCOUNT), address(TURNCOAT_ACCOUNT), address(LIAR_ACCOUNT));

  private static final String VERIFIED = "{.status.conditions[?(@.type==\"Verified\")]";
  private static final BigInteger ONE = TokenUnits.toWei("1");
  private static final BigInteger HALF = TokenUnits.toWei("0.5");
  private static final BigInteger TWO = TokenUnits.toWei("2");

  private SandboxCluster cluster;
  private Kubectl kubectl;
  private SandboxChain chain;
  private long started;

  @BeforeAll
  void start() throws IOException {
    Map<String, String> env = new LinkedHashMap<>(ChallengeAnswers.operatorEnvironment());
    // Random re-challenges every few seconds (a real pool: hours), with no GPU-time budget to
    // stop them, so the cheat is caught while its earnings are still inside the 30 s window.
    env.put("GPUPOOL_TRUST_CHALLENGE_MEAN_INTERVAL", "3s");
    env.put("GPUPOOL_TRUST_CHALLENGE_BUDGET", "1");
    // Short challenges: they hold the node they run on, and the jobs wait for them.
    env.put("GPUPOOL_TRUST_CHALLENGE_TARGET", "1s");
    cluster =
        SandboxCluster.startWithChainOnPool(
            "dispute", 20, SandboxChain.Options.forTimeScale(20), env, PoolFile.parse(POOL));
    kubectl = cluster.kubectl;
    chain = cluster.chain();
    started = System.nanoTime();
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void aWrongAnswerWithNothingToDisputeSlashesTheStakeOnceAndTheGenuineNodeStays() {
    String liar = address(LIAR_ACCOUNT);
    String whistleblower = SandboxChain.reporter().getAddress();
    assertThat(chain.stake(liar)).as("staked 2 per GPU at start").isEqualTo(TWO.shiftLeft(1));
    // Its H100 node answers its joining challenge wrongly; no job ever paid the provider.
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> events("ChallengeDispute").contains("node " + LIAR_NODE + ": "));
    System.out.printf(
        "[dispute] wrong answer with nothing paid judged %.1f s after start%n", seconds());
    assertThat(events("ChallengeDispute"))
        .contains(
            "node "
                + LIAR_NODE
                + ": no dispute filed: no metered job of "
                + LIAR
                + " ran on "
                + LIAR_NODE)
        .containsPattern("; stake slashed in 0x[0-9a-f]+: slashed " + LIAR + "'s stake")
        .containsPattern("from 4 \\S+ to 2 \\S+, whistleblower");
    // The quarantine reaches the provider's status through its own writer, not the chain's reply.
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> LIAR_NODE.equals(provider(LIAR, "{.status.challenges.quarantined[0].node}")));
    assertThat(provider(LIAR, "{.status.challenges.quarantined[0].outcome}"))
        .isEqualTo("WrongResult");
    // On chain: half the 4-token stake slashed, half of that (1) to the whistleblower, 1 burned.
    assertThat(chain.stake(liar)).isEqualTo(TWO);
    assertThat(chain.reward(whistleblower)).isEqualTo(ONE);
    // Status follows at the next stake read; 2 left still covers 1 per GPU for its 2 GPUs, so
    // its genuine RTX 3090 node stays placeable.
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> "2".equals(provider(LIAR, "{.status.stake.staked}")));
    assertThat(provider(LIAR, "{.status.stake.sufficient}")).isEqualTo("true");
    assertThat(provider(LIAR, VERIFIED + ".status}")).isEqualTo("False");
  }

  @Test
  @Order(2)
  void aProviderCaughtCheatingAfterAPaidJobIsDisputedSlashedAndTheWhistleblowerPaid() {
    String turncoat = address(TURNCOAT_ACCOUNT);
    String honest = address(HONEST_ACCOUNT);
    String whistleblower = SandboxChain.reporter().getAddress();
    assertThat(chain.stake(turncoat)).as("staked 1 per GPU at start").isEqualTo(ONE.shiftLeft(1));

    // Both pass their joining challenge and their stake covers their GPUs.
    Awaitility.await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                "True".equals(provider(HONEST, VERIFIED + ".status}"))
                    && "True".equals(provider(TURNCOAT, VERIFIED + ".status}"))
                    && "true".equals(provider(TURNCOAT, "{.status.stake.sufficient}")));

    kubectl
        .run(
            "apply", "-f", SandboxCluster.REPO.resolve("examples/billing-accounts.yaml").toString())
        .expectSuccess();
    kubectl.applyText(job("on-h100", "NVIDIA-H100-80GB-HBM3")).expectSuccess();
    kubectl.applyText(job("on-4090", "NVIDIA-GeForce-RTX-4090")).expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/on-h100", "--timeout=60s")
        .expectSuccess();
    assertThat(
            kubectl
                .run(
                    "get",
                    "pods",
                    "-l",
                    "gpupool.io/job-name=on-h100",
                    "-o",
                    "jsonpath={.items[*].spec.nodeName}")
                .expectSuccess()
                .out())
        .contains(TURNCOAT_NODE);
    // The provider swaps its software while the paid job runs: from now on its node answers
    // challenges with made-up digests.
    kubectl
        .run("label", "node", TURNCOAT_NODE, ChallengeAnswers.ANSWER_LABEL + "=wrong")
        .expectSuccess();
    for (String job : new String[] {"on-h100", "on-4090"}) {
      kubectl
          .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + job, "--timeout=60s")
          .expectSuccess();
    }
    System.out.printf("[dispute] both paid jobs done %.1f s after start%n", seconds());

    // The next random challenge of the idle node catches it.
    Awaitility.await()
        .atMost(Duration.ofSeconds(40))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> events("ChallengeDispute").contains("fraud verdict"));
    System.out.printf("[dispute] caught, disputed and judged %.1f s after start%n", seconds());
    assertThat(provider(TURNCOAT, VERIFIED + ".status}")).isEqualTo("False");
    assertThat(provider(TURNCOAT, VERIFIED + ".message}"))
        .contains(TURNCOAT_NODE + " (wrong result: leaf");
    assertThat(provider(TURNCOAT, "{.status.challenges.quarantined[0].node}"))
        .isEqualTo(TURNCOAT_NODE);
    assertThat(provider(TURNCOAT, "{.status.challenges.quarantined[0].outcome}"))
        .isEqualTo("WrongResult");
    assertThat(events("ChallengeFailed"))
        .contains("node " + TURNCOAT_NODE + ": wrong result")
        .contains("fraud evidence goes to disputes");
    String dispute = events("ChallengeDispute");
    assertThat(dispute)
        .contains("default/on-h100: opened in 0x")
        .containsPattern("[0-9.]+ ETH frozen")
        .contains("resolved as fraud");

    // On chain: half the 2-token stake slashed, half of that to the whistleblower (on top of the
    // 1 it had from the liar's slash), the rest and the frozen earnings back in the payer's
    // escrow; what the payer paid to the two providers plus its escrow is what it deposited plus
    // its share of the slash.
    assertThat(chain.stake(turncoat)).isEqualTo(ONE);
    assertThat(chain.reward(whistleblower)).isEqualTo(ONE.add(HALF));
    assertThat(
            chain
                .escrow(PAYER)
                .add(chain.providerBalance(honest))
                .add(chain.providerBalance(turncoat)))
        .isEqualTo(chain.options().escrowWeiPerPayer().add(HALF));
    String status = chainCli(Map.of(), "status", turncoat);
    assertThat(status).contains("stake 1 (" + ONE + " wei)");
    assertThat(chainCli(Map.of(), "status", whistleblower))
        .contains("reward 1.5 (" + ONE.add(HALF) + " wei)");

    // The slash shows in status at the next stake read, and the gate keeps the provider out.
    Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofSeconds(1))
        .until(() -> "1".equals(provider(TURNCOAT, "{.status.stake.staked}")));
    assertThat(provider(TURNCOAT, "{.status.stake.sufficient}")).isEqualTo("false");

    // A new job asking for H100s is not placed there, and says why.
    kubectl.applyText(job("wants-h100", "NVIDIA-H100-80GB-HBM3")).expectSuccess();
    kubectl
        .run(
            "wait",
            "--for=jsonpath={.status.conditions[?(@.type==\"Scheduled\")].reason}=Unschedulable",
            "tj/wants-h100",
            "--timeout=30s")
        .expectSuccess();
    assertThat(
            kubectl
                .run(
                    "get",
                    "tj",
                    "wants-h100",
                    "-o",
                    "jsonpath={.status.conditions[?(@.type==\"Scheduled\")].message}")
                .expectSuccess()
                .out())
        .contains(
            "quarantined after a failed hardware challenge: "
                + TURNCOAT_NODE
                + " ("
                + TURNCOAT
                + ": wrong challenge result)");
    kubectl.run("delete", "tj", "wants-h100").expectSuccess();
  }

  @Test
  @Order(3)
  void anHonestProvidersEarningsMatureAfterTheWindowAndAreWithdrawn() {
    String honest = address(HONEST_ACCOUNT);
    assertThat(chain.providerBalance(honest)).as("the 4090 job paid its provider").isPositive();
    // anvil mines only on transactions and the contract's views read the last block's time: a
    // block mined now and then lets the chain's clock move as a real chain's does. The job's last
    // metering may be settled a round after it succeeded, so the wait is for everything the
    // provider holds to have matured, not for the balance read when the test began. Earnings
    // settled at t mature at the end of the window-aligned period after t + window: up to two
    // windows later.
    Awaitility.await()
        .atMost(SandboxChain.CHALLENGE_WINDOW.multipliedBy(2).plusSeconds(20))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> {
              mineABlock();
              return chain.maturing(honest).signum() == 0
                  && chain.withdrawable(honest).equals(chain.providerBalance(honest));
            });
    BigInteger earned = chain.providerBalance(honest);
    System.out.printf("[dispute] honest earnings matured %.1f s after start%n", seconds());
    // Version 6 keeps earnings in the pairs until collected: status shows them as withdrawable
    // after collecting, and nothing left inside the window.
    assertThat(chainCli(Map.of(), "status", honest))
        .contains(
            "earnings withdrawable after collecting "
                + TokenUnits.fromWei(earned).toPlainString()
                + " ("
                + earned
                + " wei)")
        .contains("in the challenge window 0 (0 wei)");
    // The provider's status follows the chain at its next earnings read.
    Awaitility.await()
        .atMost(Duration.ofSeconds(40))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () ->
                TokenUnits.fromWei(earned)
                    .toPlainString()
                    .equals(provider(HONEST, "{.status.earnings.settled}")));

    String key =
        Numeric.toHexStringWithPrefixZeroPadded(
            DevAccounts.account(HONEST_ACCOUNT).getEcKeyPair().getPrivateKey(), 64);
    chainCli(Map.of("STEADY_KEY", key), "provider", "withdraw", "--key-env", "STEADY_KEY");
    assertThat(chain.providerBalance(honest)).as("all withdrawn").isZero();
    assertThat(provider(HONEST, VERIFIED + ".status}")).isEqualTo("True");
    // Slashed once: a minute later, the liar's stake is still half what it staked.
    assertThat(chain.stake(address(LIAR_ACCOUNT))).isEqualTo(TWO);
  }

  private String job(String name, String product) {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata:
          name: %s
          namespace: default
        spec:
          image: ghcr.io/gpupool/examples/finetune:0.1
          env:
            - name: SANDBOX_RUN_SECONDS
              value: "200"
          parallelism:
            strategy: DataParallel
            workers: 1
            gpusPerWorker: 2
          model:
            parameters: 100M
            layers: 12
          resources:
            gpuModels: ["%s"]
          budget:
            account: finetuning
            maxCost: "5"
        """
        .formatted(name, product);
  }

  private String provider(String name, String path) {
    return kubectl.run("get", "gpuprovider", name, "-o", "jsonpath=" + path).out().trim();
  }

  private String events(String reason) {
    return kubectl
        .run(
            "get",
            "events",
            "-A",
            "-o",
            "jsonpath={.items[?(@.reason==\"" + reason + "\")].message}")
        .expectSuccess()
        .out();
  }

  /** {@code ./gpupool chain ARGS} against the sandbox's chain, in this process. */
  private String chainCli(Map<String, String> env, String... args) {
    String[] full = new String[args.length + 4];
    System.arraycopy(args, 0, full, 0, args.length);
    full[args.length] = "--rpc";
    full[args.length + 1] = chain.rpcUrl();
    full[args.length + 2] = "--contract";
    full[args.length + 3] = chain.contractAddress();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        ChainCli.run(
            full,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            env);
    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(code).as("gpupool chain %s: %s", String.join(" ", args), err).isZero();
    System.out.println("[dispute] gpupool chain " + String.join(" ", args) + "\n" + printed);
    return printed;
  }

  private void mineABlock() throws IOException, InterruptedException {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(chain.rpcUrl()))
                    .header("Content-Type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"evm_mine\",\"params\":[]}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.body()).doesNotContain("\"error\"");
  }

  private double seconds() {
    return (System.nanoTime() - started) / 1e9;
  }

  private static String address(int account) {
    return org.web3j.crypto.Keys.toChecksumAddress(DevAccounts.account(account).getAddress());
  }
}
