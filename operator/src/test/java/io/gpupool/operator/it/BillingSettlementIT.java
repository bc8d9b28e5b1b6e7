package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.NS;
import static io.gpupool.operator.it.BillingFixture.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.devchain.DevChain;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.billing.Admission;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.ConfigMapBillingStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Billing enabled against anvil (billing-bridge's DevChain): a job runs, settlement pays the
 * provider exactly the metered cost, the settled usage is collected once the job is gone; and the
 * budget gate refuses a payer without escrow.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class BillingSettlementIT {
  static final BigInteger ETH = TokenUnits.toWei("1");

  static DevChain dev;

  @Inject KubernetesClient client;
  @Inject BillingService billing;
  @Inject MeterRegistry registry;

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
  void providersOnChainBalanceEqualsTheMeteredCostExactly() throws Exception {
    String payout = dev.provider(0).getAddress();
    String payer = dev.payers().get(0).getAddress();
    BillingFixture.pool(client, "r-bill-settle", payout, 2);
    TestAccounts.bindPayer(client, BillingFixture.NS, payer);
    client.resource(BillingFixture.job("bill-settle", "r-bill-settle", 2, payer)).create();
    String uid = BillingFixture.uid(client, "bill-settle");
    List<Pod> pods = BillingFixture.awaitPods(client, "bill-settle", 2);
    FakeKubelet kubelet = new FakeKubelet(client);
    pods.forEach(kubelet::run);
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              return billing.store().pods(uid).size() == 2;
            });
    Thread.sleep(1200);
    Map<String, Instant> starts = new HashMap<>();
    pods.forEach(
        p ->
            starts.put(
                p.getMetadata().getName(),
                BillingFixture.startedAt(BillingFixture.fresh(client, p))));
    pods.forEach(kubelet::succeed);
    BillingFixture.awaitPhase(client, "bill-settle", TrainingJobPhase.Succeeded);
    long time = 0;
    for (Pod p : pods) {
      time +=
          BillingFixture.milliGpuMillis(
              starts.get(p.getMetadata().getName()),
              BillingFixture.finishedAt(BillingFixture.fresh(client, p)));
    }
    BigInteger cost = BillingFixture.costWei(time);
    assertThat(cost).isPositive();

    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(uid);
              List<PairLedger> pairs = billing.store().pairs(uid);
              return pairs.size() == 1
                  && pairs.get(0).meteredWei().equals(cost)
                  && pairs.get(0).settledWei().equals(cost);
            });
    assertThat(chain.providerBalance(payout)).isEqualTo(cost);
    assertThat(billing.usage(uid).orElseThrow().settled)
        .isEqualTo(TokenUnits.fromWei(cost).toPlainString());
    assertThat(billing.earnings("prov-r-bill-settle").settled)
        .isEqualTo(TokenUnits.fromWei(cost).toPlainString());
    assertThat(
            registry
                .get("gpupool.settlement.transactions")
                .tag("result", "success")
                .counter()
                .count())
        .isGreaterThanOrEqualTo(1.0);
    assertThat(
            registry.get("gpupool.settled.amount").tag("provider", "prov-r-bill-settle").counter())
        .isNotNull();

    // settled and the job gone: its usage ConfigMap is collected
    client.resources(TrainingJob.class).inNamespace(NS).withName("bill-settle").delete();
    pods.forEach(p -> client.pods().inNamespace(NS).withName(p.getMetadata().getName()).delete());
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterAll();
              return client
                      .configMaps()
                      .inNamespace(billing.store().namespace())
                      .withName(ConfigMapBillingStore.configMapName(uid))
                      .get()
                  == null;
            });
    assertThat(chain.providerBalance(payout)).isEqualTo(cost);
  }

  @Test
  void payerWithoutEscrowMayNotStartAFundedOneMay() {
    String broke = dev.provider(3).getAddress();
    Admission refused = billing.admit(broke, ETH);
    assertThat(refused.mayRun()).isFalse();
    assertThat(refused.reason()).isEqualTo(Admission.INSUFFICIENT_FUNDS);
    assertThat(refused.verdict().escrowWei()).isZero();
    assertThat(refused.message()).contains(broke.toLowerCase());

    Admission funded = billing.admit(dev.payers().get(1).getAddress(), ETH);
    assertThat(funded.mayRun()).isTrue();
    assertThat(funded.reason()).isEqualTo("Funded");

    Admission tooMuch =
        billing.admit(
            dev.payers().get(1).getAddress(), ETH.multiply(BigInteger.valueOf(1_000_000)));
    assertThat(tooMuch.mayRun()).isFalse();

    Admission dry = billing.whileRunning(broke);
    assertThat(dry.mustSuspend()).isFalse(); // within the grace period
    assertThat(dry.reason()).isEqualTo("EscrowDry");
    assertThat(dry.suspendAt()).isAfter(Instant.now());

    assertThat(billing.admit((String) null, ETH).mayRun()).isTrue();
    billing.disableSettlement();
    assertThat(billing.admit(broke, ETH).reason()).isEqualTo("BillingDisabled");
    billing.enableSettlement(chain, billing.settlementConfig());
  }
}
