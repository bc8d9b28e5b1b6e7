package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Autoscaling;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.operator.billing.BillingService;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The budget gate for InferenceJobs against anvil: a payer without escrow gets no replica until it
 * deposits, a job stops at its {@code maxCost} until the cap is raised, a serving job shows its
 * usage and cost, and a serving job whose payer's escrow runs dry is suspended after the grace
 * period, every GPU released.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(InferenceBillingIT.ShortGrace.class)
class InferenceBillingIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(40);

  /**
   * A capped job stops within this of serving: its cap is a second's cost, and it is looked at
   * after each metering, long before the 30 s usage refresh.
   */
  private static final Duration CAP_STOP = Duration.ofSeconds(15);

  private static final String NS = "default";
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";
  private static final BigInteger ETH = TokenUnits.toWei("1");

  /**
   * Dry escrow suspends after 2 s; the load is polled often, so status refreshes quickly. The
   * billing settings are {@code @ConfigProperty} keys beside the {@code gpupool} config mapping,
   * which refuses keys it does not know when they come from system properties (as profile overrides
   * do; the chart sets them as environment variables, which it does not check).
   */
  public static class ShortGrace implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "smallrye.config.mapping.validate-unknown", "false",
          "gpupool.billing.suspend-grace", "2s",
          "gpupool.billing.metering-interval", "500ms",
          "gpupool.inference.load-poll-interval", "500ms",
          "gpupool.inference.drain-period", "1s");
    }
  }

  static DevChain dev;

  @Inject KubernetesClient client;
  @Inject BillingService billing;

  Settlement settlement;
  Web3jBillingChain chain;

  @BeforeAll
  static void startChain() {
    dev = DevChain.start(Duration.ofHours(1), 2, ETH.multiply(BigInteger.TEN));
  }

  @AfterAll
  static void stopChain() {
    if (dev != null) {
      dev.close();
    }
  }

  @BeforeEach
  void enable() {
    settlement = Settlement.on(dev, billing);
    chain = settlement.chain();
  }

  @AfterEach
  void disable() {
    settlement.close();
  }

  /** {@code nodes} single-A100 nodes in {@code region}, one provider paid at {@code payout}. */
  private void pool(String region, String payout, int nodes) {
    GpuProvider p = TestNodes.provider("prov-" + region, A100, "1.50");
    p.getSpec().payoutAddress = payout;
    client.resource(p).create();
    for (int i = 0; i < nodes; i++) {
      addNode(region, i);
    }
  }

  private void addNode(String region, int i) {
    client
        .resource(TestNodes.gpuNode(region + "-n" + i, "prov-" + region, A100, 1, 81920, region))
        .create();
  }

  /** A small model, one replica (up to two, so it is re-checked every load poll), paid by payer. */
  private static InferenceJob job(String name, String region, String payer) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "ghcr.io/example/serve:1";
    spec.port = 8000;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 16;
    spec.replicas = new ReplicaRange();
    spec.replicas.min = 1;
    spec.replicas.max = 2;
    spec.autoscaling = new Autoscaling();
    spec.allowGpuSharing = false;
    spec.placement = new PlacementPolicy();
    spec.placement.regions = List.of(region);
    spec.budget = new Budget();
    spec.budget.payer = payer;
    job.setSpec(spec);
    return job;
  }

  private InferenceJob get(String name) {
    return client.resources(InferenceJob.class).inNamespace(NS).withName(name).get();
  }

  private List<Pod> live(String job) {
    return new FakeKubelet(client)
        .pods(NS, job).stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .collect(Collectors.toList());
  }

  /** Waits for {@code done}, running the job's new pods as a kubelet would meanwhile. */
  private InferenceJob awaitJob(String name, Predicate<InferenceJob> done) {
    return awaitJob(name, TIMEOUT, done);
  }

  private InferenceJob awaitJob(String name, Duration timeout, Predicate<InferenceJob> done) {
    FakeKubelet kubelet = new FakeKubelet(client);
    return await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              for (Pod p : live(name)) {
                if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
                  kubelet.run(p);
                }
              }
              return get(name);
            },
            j -> j != null && j.getStatus() != null && done.test(j));
  }

  private static Condition funded(InferenceJob job) {
    return job.getStatus().conditions.stream()
        .filter(c -> "Funded".equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  private static boolean fundedIs(InferenceJob job, String status, String reason) {
    Condition c = funded(job);
    return c != null && status.equals(c.getStatus()) && reason.equals(c.getReason());
  }

  private List<String> eventReasons(String job) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName()))
        .map(Event::getReason)
        .collect(Collectors.toList());
  }

  @Test
  void aPayerWithoutEscrowGetsNoReplicaUntilItDeposits() {
    String region = "inf-bill-broke";
    pool(region, dev.provider(0).getAddress(), 2);
    String broke = dev.provider(3).getAddress();
    TestAccounts.bindPayer(client, NS, broke);
    client.resource(job("unfunded", region, broke)).create();

    InferenceJob refused = awaitJob("unfunded", j -> fundedIs(j, "False", "InsufficientFunds"));
    assertThat(refused.getStatus().phase).isEqualTo(InferenceJobPhase.Pending);
    assertThat(funded(refused).getMessage()).contains(broke.toLowerCase()).contains("escrow 0");
    assertThat(live("unfunded")).isEmpty();
    assertThat(refused.getStatus().replicas).isNullOrEmpty();
    await().atMost(TIMEOUT).until(() -> eventReasons("unfunded").contains("InsufficientFunds"));

    // The payer deposits; the next look (here woken by a node joining) admits and places it.
    dev.deployer()
        .depositFor(dev.contractAddress(), dev.provider(3), broke, ETH.multiply(BigInteger.TWO));
    addNode(region, 2);
    InferenceJob serving =
        awaitJob(
            "unfunded",
            j -> j.getStatus().phase == InferenceJobPhase.Serving && fundedIs(j, "True", "Funded"));
    assertThat(serving.getStatus().readyReplicas).isEqualTo(1);
    client.resource(serving).delete();
  }

  /**
   * The job has one replica and no load to poll, so nothing but the metering looks at it before the
   * 30 s usage refresh: it must stop right after the metering (every 500 ms) that crosses its cap.
   */
  @Test
  void aJobStopsAtItsMaxCostAndServesAgainWhenTheCapIsRaised() throws Exception {
    String region = "inf-bill-cap";
    pool(region, dev.provider(2).getAddress(), 1);
    InferenceJob capped = job("capped", region, dev.payers().get(1).getAddress());
    capped.getSpec().replicas.max = 1;
    // One A100 at 1.50 an hour costs 0.0004 in about a second.
    capped.getSpec().budget.maxCost = "0.0004";
    TestAccounts.bindPayer(client, NS, capped.getSpec().budget.payer);
    client.resource(capped).create();
    InferenceJob serving =
        awaitJob(
            "capped",
            j -> j.getStatus().phase == InferenceJobPhase.Serving && fundedIs(j, "True", "Funded"));
    InferenceJob stopped =
        awaitJob(
            "capped",
            CAP_STOP,
            j ->
                j.getStatus().phase == InferenceJobPhase.Pending
                    && fundedIs(j, "False", "BudgetExhausted"));
    assertThat(funded(stopped).getMessage()).contains("reached spec.budget.maxCost 0.0004");
    await().atMost(TIMEOUT).until(() -> live("capped").isEmpty());
    assertThat(eventReasons("capped")).contains("Suspended");
    Thread.sleep(1500);
    assertThat(live("capped")).as("not placed again while capped").isEmpty();

    client
        .resources(InferenceJob.class)
        .inNamespace(NS)
        .withName("capped")
        .edit(
            j -> {
              j.getSpec().budget.maxCost = "100";
              return j;
            });
    awaitJob(
        "capped",
        j -> j.getStatus().phase == InferenceJobPhase.Serving && fundedIs(j, "True", "Funded"));
    assertThat(live("capped")).hasSize(1);
    client.resource(get("capped")).delete();
  }

  @Test
  void aServingJobShowsItsCostAndIsSuspendedWhenItsPayersEscrowStaysDry() throws Exception {
    String region = "inf-bill-dry";
    String payout = dev.provider(1).getAddress();
    pool(region, payout, 2);
    var payer = dev.payers().get(0);
    TestAccounts.bindPayer(client, NS, payer.getAddress());
    client.resource(job("drying", region, payer.getAddress())).create();

    InferenceJob serving =
        awaitJob(
            "drying",
            j -> j.getStatus().phase == InferenceJobPhase.Serving && fundedIs(j, "True", "Funded"));
    String uid = serving.getMetadata().getUid();
    assertThat(live("drying")).hasSize(1);
    // The binder recorded the replica's terms before it created the pod: metering bills from them.
    assertThat(billing.store().terms(uid, live("drying").get(0).getMetadata().getName()))
        .as("billing terms recorded at placement")
        .isPresent();

    // Usage is metered and settled while it serves, and shown in status.
    Thread.sleep(1500);
    billing.meter().meterJob(uid);
    InferenceJob costed =
        awaitJob(
            "drying",
            j ->
                j.getStatus().usage != null
                    && new BigDecimal(j.getStatus().usage.cost).signum() > 0
                    && new BigDecimal(j.getStatus().usage.settled).signum() > 0);
    assertThat(costed.getStatus().usage.byProvider)
        .extracting(p -> p.provider)
        .containsExactly("prov-" + region);
    assertThat(chain.providerBalance(payout)).isPositive();

    // The payer announces it withdraws everything: nothing is committed any more.
    BigInteger balance = chain.escrow(payer.getAddress()).balanceWei();
    dev.deployer().startThaw(dev.contractAddress(), payer, balance);
    InferenceJob dry = awaitJob("drying", j -> fundedIs(j, "False", "EscrowDry"));
    assertThat(funded(dry).getMessage()).contains("suspended at");
    assertThat(live("drying")).as("serving through the grace period").hasSize(1);

    InferenceJob suspended =
        awaitJob(
            "drying",
            j ->
                j.getStatus().phase == InferenceJobPhase.Pending
                    && fundedIs(j, "False", "InsufficientFunds"));
    assertThat(suspended.getStatus().replicas).isNullOrEmpty();
    await().atMost(TIMEOUT).until(() -> live("drying").isEmpty());
    assertThat(eventReasons("drying")).contains("EscrowDry", "Suspended");
    // Admission keeps refusing while nothing is committed: no pod comes back.
    Thread.sleep(1500);
    assertThat(live("drying")).isEmpty();
    assertThat(fundedIs(get("drying"), "False", "InsufficientFunds")).isTrue();
    client.resource(get("drying")).delete();
  }
}
