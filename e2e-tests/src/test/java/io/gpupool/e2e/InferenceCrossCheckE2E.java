package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.gpupool.billing.TokenUnits;
import io.gpupool.sandbox.chain.SandboxChain;
import io.gpupool.sandbox.pool.PoolFile;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Canary cross-checks with real model servers (examples/workloads/serve.py as local processes): the
 * cheap provider's node is labelled to serve a substitute model under the same name; the operator's
 * canaries catch its replica, quarantine the node, dispute on the sandbox's chain what the job paid
 * that provider (frozen, then returned to the payer by the fraud verdict, which slashes the
 * provider's stake) and replace the replica on the one provider left, while the two honest replicas
 * keep serving untouched. Needs python3-torch and anvil.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InferenceCrossCheckE2E {
  /**
   * One RTX 4090 per provider. The substitute server's provider is the cheapest and the spare one
   * the dearest, so the three replicas start on honest-a, honest-b and the cheat, and the
   * replacement can only go to the spare. The payout addresses are anvil dev accounts 1-4: each
   * provider stakes 1 per GPU with its own key.
   */
  private static final String POOL =
      """
      providers:
        - {name: honest-a, payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
           prices: {NVIDIA-GeForce-RTX-4090: "0.40"}}
        - {name: honest-b, payoutAddress: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
           prices: {NVIDIA-GeForce-RTX-4090: "0.40"}}
        - {name: bargain-serve, payoutAddress: "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
           prices: {NVIDIA-GeForce-RTX-4090: "0.20"}}
        - {name: spare-c, payoutAddress: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
           prices: {NVIDIA-GeForce-RTX-4090: "3.00"}}
      nodeGroups:
        - {namePrefix: cc-honest-a, count: 1, provider: honest-a, region: eu-west, zone: eu-west-1a,
           gpu: &rtx4090 {product: NVIDIA-GeForce-RTX-4090, count: 1, memoryMiB: 24564,
                          family: ada-lovelace, computeMajor: 8, computeMinor: 9}}
        - {namePrefix: cc-honest-b, count: 1, provider: honest-b, region: eu-west, zone: eu-west-1b,
           gpu: *rtx4090}
        - {namePrefix: cc-bargain, count: 1, provider: bargain-serve, region: eu-west,
           zone: eu-west-1c, labels: {sandbox.gpupool.io/serve-model: substitute}, gpu: *rtx4090}
        - {namePrefix: cc-spare, count: 1, provider: spare-c, region: eu-west, zone: eu-west-1a,
           gpu: *rtx4090}
      """;

  private static final String JOB =
      """
      apiVersion: gpupool.io/v1alpha1
      kind: InferenceJob
      metadata:
        name: checked-chat
        namespace: default
      spec:
        image: ghcr.io/gpupool/workloads:0.1
        command: ["python3"]
        args: ["/workloads/serve.py", "--token-delay", "0", "--train-steps", "40"]
        port: 8000
        model:
          parameters: 1B
          layers: 8
          precision: bf16
        replicas:
          min: 3
          max: 3
        allowGpuSharing: false
        verification:
          mode: CrossCheck
          canaryIntervalSeconds: 10
          canariesPerCheck: 2
          maxTokens: 16
        budget:
          account: serving
      """;

  /** Dev account 3: bargain-serve's payout address. */
  private static final String CHEAT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

  private static final String[] PROVIDERS = {
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
    CHEAT,
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
  };

  /** The one account bound to the namespace (dev account 8 pays). */
  private static final String PAYER = "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f";

  private static final String ACCOUNT =
      """
      apiVersion: gpupool.io/v1alpha1
      kind: BillingAccount
      metadata:
        name: serving
      spec:
        payer: "%s"
        namespaces: [default]
      """
          .formatted(PAYER);

  private SandboxCluster cluster;
  private Kubectl kubectl;
  private SandboxChain chain;

  @BeforeAll
  void start() throws Exception {
    RealWorkloadsE2E.requireTorch();
    cluster =
        SandboxCluster.startWithChainOnPool(
            "crosscheck",
            1,
            SandboxChain.Options.forTimeScale(1),
            // Settled every 2 s: the replicas are paying their providers on chain long before the
            // first canaries (the servers train for a few seconds first), so the dispute has
            // earnings to freeze.
            Map.of(
                "GPUPOOL_BILLING_SETTLEMENT_INTERVAL", "2s",
                "GPUPOOL_BILLING_METERING_INTERVAL", "1s"),
            PoolFile.parse(POOL));
    kubectl = cluster.kubectl;
    chain = cluster.chain();
    kubectl.applyText(ACCOUNT).expectSuccess();
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String jsonpath(String what, String path) {
    return kubectl.run("get", what, "-o", "jsonpath=" + path).expectSuccess().out().trim();
  }

  /** Pod name to node of the job's pods. */
  private Map<String, String> podsByNode() {
    String[] names =
        jsonpath(
                "pods",
                "{.items[?(@.metadata.labels.gpupool\\.io/job-name==\"checked-chat\")]"
                    + ".metadata.name}")
            .split(" ");
    Map<String, String> out = new TreeMap<>();
    for (String name : names) {
      if (!name.isBlank()) {
        out.put(name, jsonpath("pod/" + name, "{.spec.nodeName}"));
      }
    }
    return out;
  }

  private String events(String reason) {
    return jsonpath("events", "{.items[?(@.reason==\"" + reason + "\")].message}");
  }

  @Test
  void aReplicaServingASubstituteModelIsCaughtDisputedOnChainSlashedAndReplaced() {
    String whistleblower = SandboxChain.reporter().getAddress();
    assertThat(chain.stake(CHEAT)).as("1 staked per GPU").isEqualTo(TokenUnits.toWei("1"));
    kubectl.applyText(JOB).expectSuccess();
    // placed at once, long before the servers have trained and a check can run
    Map<String, String> placed =
        await("three replicas placed")
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(500))
            .until(this::podsByNode, pods -> pods.size() == 3);
    assertThat(placed.values())
        .containsExactlyInAnyOrder("cc-honest-a-1", "cc-honest-b-1", "cc-bargain-1");

    kubectl
        .run(
            "wait",
            "--for=jsonpath={.status.verification.disputes}=1",
            "ij/checked-chat",
            "--timeout=120s")
        .expectSuccess();
    String mismatch = events("CanaryMismatch");
    System.out.println("CanaryMismatch: " + mismatch);
    assertThat(mismatch)
        .contains("on cc-bargain-1 (bargain-serve)")
        .contains("node quarantined, replica replaced, dispute filed")
        .containsPattern("evidence 0x[0-9a-f]{64}");

    // the replacement trains and serves on the spare provider, and the next check passes
    await("a later check that every provider passes")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> jsonpath("ij/checked-chat", "{.status.verification.lastResult}"),
            r -> r.startsWith("3 providers agreed"));
    Map<String, String> after = podsByNode();
    System.out.println("placed " + placed + ", after " + after);
    assertThat(after.values())
        .containsExactlyInAnyOrder("cc-honest-a-1", "cc-honest-b-1", "cc-spare-1");
    placed.forEach(
        (pod, node) -> {
          if (!node.equals("cc-bargain-1")) {
            assertThat(after).as("honest replicas left alone").containsEntry(pod, node);
          }
        });
    assertThat(jsonpath("ij/checked-chat", "{.status.verification.disputes}")).isEqualTo("1");

    // On chain: what the job had paid bargain-serve inside the challenge window was frozen, the
    // fraud verdict returned it to the payer, slashed half the stake and paid the whistleblower
    // half of that. Caught before its first settlement (a quiet machine trains and serves sooner
    // than a settlement lands), there is nothing to dispute and the stake answers alone: half
    // slashed, the whistleblower paid half of that, the rest burned.
    String dispute =
        await("the fraud punished on chain")
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofSeconds(1))
            .until(
                () -> events("CanaryDispute"),
                e -> e.contains("fraud verdict") || e.contains("stake slashed"));
    System.out.println("CanaryDispute: " + dispute);
    boolean disputed = dispute.contains("fraud verdict");
    BigInteger payerShare;
    if (disputed) {
      assertThat(dispute)
          .contains("dispute against bargain-serve: opened in 0x")
          .contains("resolved as fraud")
          .doesNotContain("not given");
      Matcher frozen = Pattern.compile("([0-9.]+) [A-Z]+ frozen").matcher(dispute);
      assertThat(frozen.find()).as("an amount frozen: %s", dispute).isTrue();
      assertThat(new BigDecimal(frozen.group(1))).as("earnings frozen").isPositive();
      payerShare = TokenUnits.toWei("0.25");
    } else {
      assertThat(dispute)
          .contains("dispute against bargain-serve: nothing_to_dispute")
          .contains("stake slashed in 0x");
      payerShare = BigInteger.ZERO;
    }
    assertThat(chain.stake(CHEAT)).isEqualTo(TokenUnits.toWei("0.5"));
    assertThat(chain.reward(whistleblower)).isEqualTo(TokenUnits.toWei("0.25"));
    for (String p : PROVIDERS) {
      if (!p.equals(CHEAT)) {
        assertThat(chain.stake(p)).as("%s's stake untouched", p).isEqualTo(TokenUnits.toWei("1"));
      }
    }
    // Nothing appears or vanishes: the payer's escrow and what the providers hold is what it
    // deposited plus its half of the slash when a dispute returned it (read as one sum until no
    // settlement falls between).
    BigInteger expected = chain.options().escrowWeiPerPayer().add(payerShare);
    await("escrow and balances add up")
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              BigInteger sum = chain.escrow(PAYER);
              for (String p : PROVIDERS) {
                sum = sum.add(chain.providerBalance(p));
              }
              return sum.equals(expected);
            });
    assertThat(chain.providerBalance(PROVIDERS[3])).as("the spare's replica is paid").isPositive();
  }
}
