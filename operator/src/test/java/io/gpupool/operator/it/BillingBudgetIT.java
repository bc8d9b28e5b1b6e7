package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingMeteringIT.NS;
import static io.gpupool.operator.it.BillingMeteringIT.RTX4090;
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
    chain = new Web3jBillingChain(dev.chainConfig(), dev.reporter());
    billing.enableSettlement(
        chain,
        billing
            .settlementConfig()
            .withInterval(Duration.ofMillis(500))
            .withReconcileFromBlock(dev.deployBlock()));
  }

  @AfterEach
  void disable() {
    billing.disableSettlement();
    chain.close();
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
    client.resource(BillingMeteringIT.job(name, region, 2, payer)).create();

    // 1. not enough escrow: Pending, InsufficientFunds with payer, needed and available, no pods
    Condition refused =
        await()
            .atMost(BillingMeteringIT.TIMEOUT)
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
    List<Pod> gang = BillingMeteringIT.awaitPods(client, name, 2);
    FakeKubelet kubelet = new FakeKubelet(client);
    gang.forEach(kubelet::run);
    BillingMeteringIT.awaitPhase(client, name, TrainingJobPhase.Running);
    String uid = BillingMeteringIT.uid(client, name);

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
        .atMost(BillingMeteringIT.TIMEOUT)
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
        .atMost(BillingMeteringIT.TIMEOUT)
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
