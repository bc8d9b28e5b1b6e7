package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.PodRecord;
import io.gpupool.operator.workload.GroupBinder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Replica pods an InferenceJob's status never listed, because the leader that created them died
 * before writing it, and that the next leader deletes at its first look at the job (it was
 * suspended meanwhile): their usage must still reach the job's usage record (ChaosE2E found a
 * served job with no replica pod in it).
 *
 * <p>The time no leader looks at the job is played by a {@link LeaderGap}.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class UnlistedReplicaUsageIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String NS = "default";
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";
  private static final String REGION = "unlisted-usage";
  private static final String NODE = REGION + "-n0";
  private static final String PROVIDER = "prov-" + REGION;

  @Inject KubernetesClient client;
  @Inject BillingService billing;
  @Inject GroupBinder binder;

  /** The app is shared with other ITs: their jobs must not find this node. */
  @AfterEach
  void removePool() {
    client.nodes().withName(NODE).delete();
    client.resources(GpuProvider.class).withName(PROVIDER).delete();
  }

  @Test
  void replicaPodsNoStatusListedAreMeteredWhenTheSuspendDeletesThem() throws Exception {
    FakeKubelet kubelet = new FakeKubelet(client);
    client.resource(TestNodes.provider(PROVIDER, A100, "1.50")).create();
    client.resource(TestNodes.gpuNode(NODE, PROVIDER, A100, 2, 81920, REGION)).create();
    String name = "unlisted-serve";
    client.resource(TestJobs.serving(NS, name, REGION, 2, 2)).create();
    // The dying leader's last step: both groups created (terms recorded first), not yet running.
    InferenceJob placed =
        await()
            .atMost(TIMEOUT)
            .until(
                () -> job(name),
                j -> j.getStatus() != null && listed(j) == 2 && kubelet.live(NS, name).size() == 2);
    String uid = placed.getMetadata().getUid();
    List<Pod> replicas = kubelet.live(NS, name);

    LeaderGap gap = LeaderGap.open(binder, NS, uid, TIMEOUT);
    try {
      Thread.sleep(500); // a step already under way ends
      // ... and its status write listing the replicas never reached the server
      client
          .resources(InferenceJob.class)
          .inNamespace(NS)
          .withName(name)
          .editStatus(
              j -> {
                j.getStatus().replicas = new ArrayList<>();
                j.getStatus().readyReplicas = 0;
                return j;
              });
      // the replicas run while no leader looks, and the user suspends the job
      replicas.forEach(kubelet::run);
      await()
          .atMost(TIMEOUT)
          .until(() -> kubelet.live(NS, name).stream().allMatch(UnlistedReplicaUsageIT::running));
      client
          .resources(InferenceJob.class)
          .inNamespace(NS)
          .withName(name)
          .edit(
              j -> {
                j.getSpec().suspend = true;
                return j;
              });
      assertThat(listed(job(name))).as("no status ever listed the running replicas").isZero();
    } finally {
      gap.end();
    }
    // the next leader's first look: the job is suspended, its pods go
    gap.nextLeaderLooks(client, replicas.get(0));
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                kubelet.pods(NS, name).isEmpty()
                    && job(name).getStatus().phase == InferenceJobPhase.Suspended);

    List<String> podUids = replicas.stream().map(p -> p.getMetadata().getUid()).toList();
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () -> {
              billing.meter().meterJob(uid);
              Map<String, PodRecord> records = billing.store().pods(uid);
              assertThat(records.keySet())
                  .as("both replica pods metered, each once")
                  .containsExactlyInAnyOrderElementsOf(podUids);
              assertThat(records.values()).allMatch(PodRecord::ended);
            });
    Map<String, PodRecord> records = billing.store().pods(uid);
    assertThat(
            records.values().stream()
                .map(r -> r.lifetime().end().isBefore(r.lifetime().start()))
                .collect(Collectors.toSet()))
        .containsOnly(false);
    client.resources(InferenceJob.class).inNamespace(NS).withName(name).delete();
  }

  private InferenceJob job(String name) {
    return client.resources(InferenceJob.class).inNamespace(NS).withName(name).get();
  }

  private static long listed(InferenceJob job) {
    var replicas = job.getStatus() == null ? null : job.getStatus().replicas;
    return replicas == null
        ? 0
        : replicas.stream().filter(r -> r.shards != null).mapToLong(r -> r.shards.size()).sum();
  }

  private static boolean running(Pod p) {
    return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
  }
}
