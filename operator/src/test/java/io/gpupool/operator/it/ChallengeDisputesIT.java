package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.PAYER;
import static io.gpupool.operator.it.BillingFixture.TIMEOUT;
import static io.gpupool.operator.it.BillingFixture.awaitPods;
import static io.gpupool.operator.it.BillingFixture.job;
import static io.gpupool.operator.it.BillingFixture.pool;
import static io.gpupool.operator.it.BillingFixture.uid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.billing.PairId;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.ConfigMapBillingStore;
import io.gpupool.operator.trust.ChallengeDisputes;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A wrong hardware-challenge answer proves that one node lied about its GPUs: the jobs it ran paid
 * for GPUs they did not get. Through the real meter and usage records (mock API server): a provider
 * with two nodes runs one paid job on each; the wrong answer on one node forfeits the usage of the
 * job that ran there, while the job on the provider's other node keeps being paid to it.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ChallengeDisputesIT {
  static final String REGION = "r-chal-disp";
  static final String PROVIDER = "prov-" + REGION;
  static final String PAYOUT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

  @Inject KubernetesClient client;
  @Inject BillingService billing;
  @Inject ChallengeDisputes disputes;

  @Test
  void aWrongAnswerOnOneNodeForfeitsOnlyTheJobThatRanOnIt() throws Exception {
    pool(client, REGION, PAYOUT, 2); // one GPU per node: one job on each
    client.resource(job("on-liar", REGION, 1, PAYER)).create();
    client.resource(job("beside-liar", REGION, 1, PAYER)).create();
    Pod onLiar = awaitPods(client, "on-liar", 1).get(0);
    Pod beside = awaitPods(client, "beside-liar", 1).get(0);
    String liarNode = onLiar.getSpec().getNodeName();
    assertThat(beside.getSpec().getNodeName()).isNotEqualTo(liarNode).startsWith(REGION);
    FakeKubelet kubelet = new FakeKubelet(client);
    kubelet.run(onLiar);
    kubelet.run(beside);
    ConfigMapBillingStore store = billing.store();
    PairId liarPair = meteredPair(store, uid(client, "on-liar"));
    PairId besidePair = meteredPair(store, uid(client, "beside-liar"));

    CompletableFuture<String> report = new CompletableFuture<>();
    disputes.file(
        PROVIDER,
        liarNode,
        "challenge nonce=00 node=" + liarNode + ": round 1 digest differs",
        "wrong hardware-challenge result on node " + liarNode,
        report::complete);
    String said = report.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);

    assertThat(said).contains("default/on-liar: ").doesNotContain("beside-liar");
    assertThat(store.forfeit(liarPair)).as("the lying node's job: forfeited").isPresent();
    assertThat(store.forfeit(besidePair))
        .as("the job on the provider's other node is still paid to it")
        .isEmpty();
  }

  /** The job's one pair, once the meter has recorded its pod running. */
  private PairId meteredPair(ConfigMapBillingStore store, String jobUid) {
    await()
        .atMost(TIMEOUT)
        .until(
            () -> {
              billing.meter().meterJob(jobUid);
              return store.pods(jobUid).size() == 1 && store.pairs(jobUid).size() == 1;
            });
    return store.pairs(jobUid).get(0).pair();
  }
}
