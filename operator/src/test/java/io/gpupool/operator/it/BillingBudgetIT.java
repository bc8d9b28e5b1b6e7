package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.NS;
import static io.gpupool.operator.it.BillingFixture.RTX4090;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevAccounts;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.PodRecord;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The budget gate through the TrainingJob reconciler, against anvil: a job whose payer's escrow
 * cannot cover the next settlement interval stays Pending with condition InsufficientFunds (payer,
 * needed and available in the message) and no pods; a deposit lets it start; once running, its
 * escrow runs dry and, past the suspend grace, the job is suspended with a clear condition and its
 * usage kept.
 *
 * <p>Figures: the provider asks 36 tokens per GPU-hour (0.01 per GPU-second), the job has two
 * one-GPU workers, so it costs 72 per hour and the 5 s settlement window needs 0.1 of escrow.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(BillingBudgetIT.FastBilling.class)
class BillingBudgetIT {
  static final Duration SETTLEMENT_WINDOW = Duration.ofSeconds(5);
  static final String PRICE = "36";
  static final BigInteger NEEDED = TokenUnits.toWei("0.1");

  /** Short windows so escrow runs dry in seconds; the budget window is the settlement interval. */
  public static class FastBilling implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of(
          "gpupool.billing.settlement-interval", SETTLEMENT_WINDOW.toSeconds() + "s",
          "gpupool.billing.metering-interval", "1s",
          "gpupool.billing.suspend-grace", "2s");
    }
  }

  static DevChain dev;

  @Inject KubernetesClient client;
  @Inject BillingService billing;

  Settlement settlement;
  Web3jBillingChain chain;

  @BeforeAll
  static void startChain() {
    dev = DevChain.start(Duration.ofHours(1), 0, BigInteger.ZERO);
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

  @Test
  void underfundedJobWaitsWithoutPodsStartsAfterADepositAndIsSuspendedWhenItsEscrowRunsDry()
      throws Exception {
    String region = "r-budget";
    String provider = "prov-" + region;
    var p = TestNodes.provider(provider, RTX4090, PRICE);
    p.getSpec().payoutAddress = dev.provider(0).getAddress();
    client.resource(p).create();
    for (int i = 0; i < 2; i++) {
      client
          .resource(TestNodes.gpuNode(region + "-n" + i, provider, RTX4090, 1, 24564, region))
          .create();
    }
    String payer = DevAccounts.account(15).getAddress(); // no ETH, funded by others' deposits
    BigInteger available = TokenUnits.toWei("0.04");
    deposit(payer, available);
    String name = "budget-gate";
    TestAccounts.bindPayer(client, BillingFixture.NS, payer);
    client.resource(BillingFixture.job(name, region, 2, payer)).create();

    // 1. not enough escrow: Pending, InsufficientFunds with payer, needed and available, no pods
    Condition refused =
        await()
            .atMost(BillingFixture.TIMEOUT)
            .until(() -> funded(name), c -> c.isPresent() && "False".equals(c.get().getStatus()))
            .orElseThrow();
    assertThat(refused.getReason()).isEqualTo("InsufficientFunds");
    assertThat(refused.getMessage())
        .contains(payer.toLowerCase())
        .contains("escrow " + TokenUnits.fromWei(available).toPlainString())
        .contains("cannot cover " + TokenUnits.fromWei(NEEDED).toPlainString())
        .contains(SETTLEMENT_WINDOW.toString());
    assertThat(job(name).getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    Thread.sleep(2000);
    assertThat(pods(name)).as("no pods for an unfunded job").isEmpty();
    assertThat(job(name).getStatus().phase).isEqualTo(TrainingJobPhase.Pending);

    // 2. a deposit: the reconciler looks again (every minute), finds it Funded and places the gang
    BigInteger topUp = TokenUnits.toWei("0.2");
    deposit(payer, topUp);
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                funded(name).map(c -> "True".equals(c.getStatus())).orElse(false)
                    && job(name).getStatus().phase == TrainingJobPhase.Scheduled);
    assertThat(funded(name).orElseThrow().getReason()).isEqualTo("Funded");
    List<Pod> gang = BillingFixture.awaitPods(client, name, 2);
    FakeKubelet kubelet = new FakeKubelet(client);
    gang.forEach(kubelet::run);
    BillingFixture.awaitPhase(client, name, TrainingJobPhase.Running);
    String uid = BillingFixture.uid(client, name);

    // 3. at 0.02 per second the 0.24 of escrow is gone in ~12 s; settlement takes what is there,
    // the payer is dry, and past the 2 s grace the running job is suspended
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofSeconds(1))
        .until(
            () -> pods(name).isEmpty() && job(name).getStatus().phase != TrainingJobPhase.Running);
    TrainingJob suspended = job(name);
    assertThat(suspended.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(suspended.getStatus().placements).isNullOrEmpty();
    Condition running = condition(suspended, "Running").orElseThrow();
    assertThat(running.getStatus()).isEqualTo("False");
    assertThat(running.getReason()).isEqualTo("InsufficientFunds");
    assertThat(running.getMessage()).startsWith("suspended: ").contains(payer.toLowerCase());
    Condition stillFunded = funded(name).orElseThrow();
    assertThat(stillFunded.getStatus()).isEqualTo("False");
    assertThat(stillFunded.getReason()).isEqualTo("InsufficientFunds");
    assertThat(chain.escrow(payer).balanceWei()).isZero();

    // usage kept: both pods' records, ended, and the whole escrow paid to the provider
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              return billing.store().pods(uid).values().stream().allMatch(PodRecord::ended);
            });
    assertThat(billing.store().pods(uid)).hasSize(2);
    PairLedger pair = billing.store().pairs(uid).get(0);
    BigInteger deposited = available.add(topUp);
    assertThat(pair.meteredWei()).isGreaterThan(deposited);
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(() -> chain.providerBalance(dev.provider(0).getAddress()).equals(deposited));
    // a Pending job's status is refreshed when the reconciler looks at its funds (every minute)
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                job(name).getStatus().usage != null
                    && new BigInteger(job(name).getStatus().usage.byProvider.get(0).costWei)
                        .equals(billing.store().pairs(uid).get(0).meteredWei())
                    && TokenUnits.fromWei(deposited)
                        .toPlainString()
                        .equals(job(name).getStatus().usage.settled));
    Thread.sleep(2000);
    assertThat(pods(name)).as("a suspended job is not restarted while its payer is dry").isEmpty();
    client.resources(TrainingJob.class).inNamespace(NS).withName(name).delete();
  }

  /**
   * Issue #18: a job in team-a naming team-b's funded account is refused (PayerNotAuthorized, a
   * Warning event, no pods, team-b's escrow untouched, no figure of the account in the message); a
   * job without budget in an unbound namespace is refused (BudgetRequired); binding team-a lets the
   * job run, unbinding it suspends the running job and keeps its usage.
   */
  @Test
  void aNamespaceChargesOnlyAnAccountItIsBoundTo() throws Exception {
    String region = "r-tenancy";
    String provider = "prov-" + region;
    var p = TestNodes.provider(provider, RTX4090, PRICE);
    p.getSpec().payoutAddress = dev.provider(1).getAddress();
    client.resource(p).create();
    for (int i = 0; i < 2; i++) {
      client
          .resource(TestNodes.gpuNode(region + "-n" + i, provider, RTX4090, 1, 24564, region))
          .create();
    }
    String teamBPayer = DevAccounts.account(16).getAddress();
    deposit(teamBPayer, TokenUnits.toWei("5"));
    BigInteger escrowBefore = chain.escrow(teamBPayer).balanceWei();
    client.resource(TestAccounts.account("team-b", teamBPayer, "team-b")).create();

    TrainingJob borrower = BillingFixture.job("borrower", region, 2, null);
    borrower.getMetadata().setNamespace("team-a");
    borrower.getSpec().budget = new io.gpupool.api.v1alpha1.Budget();
    borrower.getSpec().budget.account = "team-b";
    client.resource(borrower).create();
    Condition refused =
        await()
            .atMost(BillingFixture.TIMEOUT)
            .until(
                () -> condition(job("team-a", "borrower"), "Funded"),
                c -> c.isPresent() && "False".equals(c.get().getStatus()))
            .orElseThrow();
    assertThat(refused.getReason()).isEqualTo("PayerNotAuthorized");
    assertThat(refused.getMessage())
        .contains("namespace team-a may not charge BillingAccount team-b")
        .doesNotContainIgnoringCase(teamBPayer)
        .doesNotContain("escrow");
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(
            () ->
                client.v1().events().inNamespace("team-a").list().getItems().stream()
                    .anyMatch(
                        e ->
                            "PayerNotAuthorized".equals(e.getReason())
                                && "Warning".equals(e.getType())));
    Thread.sleep(1000);
    assertThat(new FakeKubelet(client).pods("team-a", "borrower")).isEmpty();
    assertThat(chain.escrow(teamBPayer).balanceWei()).isEqualTo(escrowBefore);

    TrainingJob freeloader = BillingFixture.job("freeloader", region, 1, null);
    freeloader.getMetadata().setNamespace("team-c");
    client.resource(freeloader).create();
    Condition required =
        await()
            .atMost(BillingFixture.TIMEOUT)
            .until(
                () -> condition(job("team-c", "freeloader"), "Funded"),
                c -> c.isPresent() && "False".equals(c.get().getStatus()))
            .orElseThrow();
    assertThat(required.getReason()).isEqualTo("BudgetRequired");
    assertThat(required.getMessage()).contains("spec.namespaces").contains("spec.budget.account");
    client.resource(freeloader).delete();

    // Binding team-a wakes the job: it is placed and runs, paid by team-b's account.
    client
        .resources(io.gpupool.api.v1alpha1.BillingAccount.class)
        .withName("team-b")
        .edit(
            a -> {
              a.getSpec().namespaces = List.of("team-b", "team-a");
              return a;
            });
    FakeKubelet kubelet = new FakeKubelet(client);
    List<Pod> gang =
        await()
            .atMost(BillingFixture.TIMEOUT)
            .until(() -> kubelet.pods("team-a", "borrower"), pods -> pods.size() == 2);
    gang.forEach(kubelet::run);
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(() -> job("team-a", "borrower").getStatus().phase == TrainingJobPhase.Running);
    String uid = job("team-a", "borrower").getMetadata().getUid();
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(
            () ->
                !billing.store().pairs(uid).isEmpty()
                    && billing
                        .store()
                        .pairs(uid)
                        .get(0)
                        .pair()
                        .payer()
                        .equalsIgnoreCase(teamBPayer));

    // The account's status shows the spend, the escrow and the job charging it.
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(
            () -> {
              var st =
                  client
                      .resources(io.gpupool.api.v1alpha1.BillingAccount.class)
                      .withName("team-b")
                      .get()
                      .getStatus();
              return st != null
                  && st.jobs != null
                  && st.jobs.contains("TrainingJob/team-a/borrower")
                  && st.escrow != null
                  && new java.math.BigDecimal(st.spent).signum() > 0;
            });

    // Unbinding suspends it: pods removed, PayerNotAuthorized, the usage so far kept.
    client
        .resources(io.gpupool.api.v1alpha1.BillingAccount.class)
        .withName("team-b")
        .edit(
            a -> {
              a.getSpec().namespaces = List.of("team-b");
              return a;
            });
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(
            () ->
                kubelet.pods("team-a", "borrower").stream()
                        .allMatch(pod -> pod.getMetadata().getDeletionTimestamp() != null)
                    && condition(job("team-a", "borrower"), "Funded")
                        .map(c -> "PayerNotAuthorized".equals(c.getReason()))
                        .orElse(false));
    assertThat(billing.store().pairs(uid)).isNotEmpty();
    assertThat(billing.store().pairs(uid).get(0).meteredWei()).isPositive();
    client.resources(TrainingJob.class).inNamespace("team-a").withName("borrower").delete();
  }

  /** Issue #18: a TrainingJob stops at spec.budget.maxCost and runs again when it is raised. */
  @Test
  void aTrainingJobStopsAtItsMaxCostAndRunsAgainWhenItIsRaised() throws Exception {
    String region = "r-maxcost";
    String provider = "prov-" + region;
    var p = TestNodes.provider(provider, RTX4090, PRICE);
    p.getSpec().payoutAddress = dev.provider(2).getAddress();
    client.resource(p).create();
    for (int i = 0; i < 2; i++) {
      client
          .resource(TestNodes.gpuNode(region + "-n" + i, provider, RTX4090, 1, 24564, region))
          .create();
    }
    String payer = DevAccounts.account(17).getAddress();
    deposit(payer, TokenUnits.toWei("5"));
    TestAccounts.bindPayer(client, NS, payer);
    String name = "capped-training";
    TrainingJob capped = BillingFixture.job(name, region, 2, payer);
    // two GPUs at 0.01 per GPU-second: 0.02 a second, so the cap is reached within seconds
    capped.getSpec().budget.maxCost = "0.03";
    client.resource(capped).create();
    FakeKubelet kubelet = new FakeKubelet(client);
    BillingFixture.awaitPods(client, name, 2).forEach(kubelet::run);

    // The cap is 1.5 s of its cost; it is looked at after each metering (every second), not at
    // the 30 s usage refresh.
    await()
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                pods(name).isEmpty()
                    && funded(name)
                        .map(c -> "BudgetExhausted".equals(c.getReason()))
                        .orElse(false));
    TrainingJob stopped = job(name);
    assertThat(stopped.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(funded(name).orElseThrow().getMessage())
        .contains("reached spec.budget.maxCost 0.03");
    Thread.sleep(2000);
    assertThat(pods(name)).as("not placed again while at its cap").isEmpty();

    client
        .resources(TrainingJob.class)
        .inNamespace(NS)
        .withName(name)
        .edit(
            j -> {
              j.getSpec().budget.maxCost = "100";
              return j;
            });
    BillingFixture.awaitPods(client, name, 2).forEach(kubelet::run);
    BillingFixture.awaitPhase(client, name, TrainingJobPhase.Running);
    client.resources(TrainingJob.class).inNamespace(NS).withName(name).delete();
  }

  /**
   * Issue #18: an account's limits. A job whose maxCost is above the account's maxCostPerJob is
   * refused (AccountLimitReached, a Warning event, no pods); under a maxCostPerPeriod it runs until
   * the account's spend this period reaches the cap, is suspended (usage kept), and runs again when
   * the cap is raised. The account shows its spend this period.
   */
  @Test
  void anAccountsLimitsKeepAJobFromStartingAndStopItAtThePeriodsCap() throws Exception {
    String region = "r-limits";
    String provider = "prov-" + region;
    var p = TestNodes.provider(provider, RTX4090, PRICE);
    p.getSpec().payoutAddress = dev.provider(3).getAddress();
    client.resource(p).create();
    for (int i = 0; i < 2; i++) {
      client
          .resource(TestNodes.gpuNode(region + "-n" + i, provider, RTX4090, 1, 24564, region))
          .create();
    }
    String ns = "team-limits";
    String payer = DevAccounts.account(18).getAddress();
    deposit(payer, TokenUnits.toWei("5"));
    var account = TestAccounts.account("limited", payer, ns);
    account.getSpec().limits = new io.gpupool.api.v1alpha1.BillingAccountLimits();
    account.getSpec().limits.maxCostPerJob = "1";
    client.resource(account).create();

    String name = "limited-job";
    TrainingJob j = BillingFixture.job(name, region, 2, null);
    j.getMetadata().setNamespace(ns);
    j.getSpec().budget = new io.gpupool.api.v1alpha1.Budget();
    j.getSpec().budget.account = "limited";
    j.getSpec().budget.maxCost = "5";
    client.resource(j).create();
    Condition refused =
        await()
            .atMost(BillingFixture.TIMEOUT)
            .until(
                () -> condition(job(ns, name), "Funded"),
                c -> c.isPresent() && "AccountLimitReached".equals(c.get().getReason()))
            .orElseThrow();
    assertThat(refused.getStatus()).isEqualTo("False");
    assertThat(refused.getMessage())
        .isEqualTo(
            "spec.budget.maxCost 5 exceeds BillingAccount limited's spec.limits.maxCostPerJob 1;"
                + " lower it to at most that");
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(
            () ->
                client.v1().events().inNamespace(ns).list().getItems().stream()
                    .anyMatch(
                        e ->
                            "AccountLimitReached".equals(e.getReason())
                                && "Warning".equals(e.getType())));
    FakeKubelet kubelet = new FakeKubelet(client);
    assertThat(kubelet.pods(ns, name)).isEmpty();

    // Per period instead: two GPUs cost 0.02 a second, the next 5 s interval 0.1, the cap 0.15.
    client
        .resources(io.gpupool.api.v1alpha1.BillingAccount.class)
        .withName("limited")
        .edit(
            a -> {
              a.getSpec().limits.maxCostPerJob = null;
              a.getSpec().limits.maxCostPerPeriod = "0.15";
              a.getSpec().limits.period = "24h";
              return a;
            });
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(() -> live(kubelet, ns, name), pods -> pods.size() == 2)
        .forEach(kubelet::run);
    String uid = job(ns, name).getMetadata().getUid();
    await()
        .atMost(BillingFixture.TIMEOUT)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                live(kubelet, ns, name).isEmpty()
                    && condition(job(ns, name), "Funded")
                        .map(c -> "AccountLimitReached".equals(c.getReason()))
                        .orElse(false));
    Condition stopped = condition(job(ns, name), "Funded").orElseThrow();
    assertThat(stopped.getMessage())
        .startsWith("BillingAccount limited reached its spec.limits.maxCostPerPeriod 0.15; jobs")
        .contains("or when it is raised");
    var status =
        client
            .resources(io.gpupool.api.v1alpha1.BillingAccount.class)
            .withName("limited")
            .get()
            .getStatus();
    assertThat(new java.math.BigDecimal(status.spentThisPeriod))
        .isGreaterThanOrEqualTo(new java.math.BigDecimal("0.15"));
    assertThat(status.periodStart).isNotNull();
    assertThat(billing.store().pairs(uid).get(0).meteredWei()).isPositive();
    Thread.sleep(2000);
    assertThat(live(kubelet, ns, name)).as("not placed again at the period's cap").isEmpty();

    client
        .resources(io.gpupool.api.v1alpha1.BillingAccount.class)
        .withName("limited")
        .edit(
            a -> {
              a.getSpec().limits.maxCostPerPeriod = "100";
              return a;
            });
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(() -> live(kubelet, ns, name), pods -> pods.size() == 2)
        .forEach(kubelet::run);
    await()
        .atMost(BillingFixture.TIMEOUT)
        .until(() -> job(ns, name).getStatus().phase == TrainingJobPhase.Running);
    client.resources(TrainingJob.class).inNamespace(ns).withName(name).delete();
  }

  private static List<Pod> live(FakeKubelet kubelet, String ns, String name) {
    return kubelet.pods(ns, name).stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  private TrainingJob job(String namespace, String name) {
    return client.resources(TrainingJob.class).inNamespace(namespace).withName(name).get();
  }

  private void deposit(String payer, BigInteger wei) {
    dev.deployer().depositFor(dev.contractAddress(), dev.owner(), payer, wei);
    dev.allowReporter(payer);
  }

  private TrainingJob job(String name) {
    return client.resources(TrainingJob.class).inNamespace(NS).withName(name).get();
  }

  private List<Pod> pods(String name) {
    return new FakeKubelet(client)
        .pods(NS, name).stream()
            .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
            .toList();
  }

  private Optional<Condition> funded(String name) {
    return condition(job(name), "Funded");
  }

  private static Optional<Condition> condition(TrainingJob job, String type) {
    if (job == null || job.getStatus() == null) {
      return Optional.empty();
    }
    return job.getStatus().conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }
}
