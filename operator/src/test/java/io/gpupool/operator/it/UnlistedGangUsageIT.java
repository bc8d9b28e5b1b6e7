package io.gpupool.operator.it;

import static io.gpupool.operator.it.BillingFixture.NS;
import static io.gpupool.operator.it.BillingFixture.PAYER;
import static io.gpupool.operator.it.BillingFixture.TIMEOUT;
import static io.gpupool.operator.it.BillingFixture.job;
import static io.gpupool.operator.it.BillingFixture.pool;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.PodRecord;
import io.gpupool.operator.workload.GroupBinder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A TrainingJob's gang that its status never listed, because the leader that placed it died before
 * its status write reached the server, and that the next leader deletes at its first look at the
 * job: suspended meanwhile, or placed again (a job without placements gets a new gang, the stale
 * one deleted first). The gang ran all along; its usage must reach the job's usage record, each pod
 * once.
 *
 * <p>The time no leader looks at the job is played by a {@link LeaderGap}.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class UnlistedGangUsageIT {
  @Inject KubernetesClient client;
  @Inject BillingService billing;
  @Inject GroupBinder binder;

  private FakeKubelet kubelet;

  @BeforeEach
  void newKubelet() {
    kubelet = new FakeKubelet(client);
  }

  @Test
  void gangPodsNoStatusListedAreMeteredWhenTheSuspendDeletesThem() throws Exception {
    String name = "unlisted-gang-suspend";
    UnlistedGang gang = unlistedRunningGang(name, j -> j.getSpec().suspend = true);
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                kubelet.pods(NS, name).isEmpty()
                    && stored(name).getStatus().phase == TrainingJobPhase.Suspended);
    assertMeteredOnceEach(gang);
    client.resources(TrainingJob.class).inNamespace(NS).withName(name).delete();
  }

  @Test
  void gangPodsNoStatusListedAreMeteredWhenTheJobIsPlacedAgain() throws Exception {
    String name = "unlisted-gang-again";
    UnlistedGang gang = unlistedRunningGang(name, j -> {});
    List<String> stale = gang.podUids();
    // the next leader sees a job without placements: it deletes the stale gang and places anew
    await()
        .atMost(TIMEOUT)
        .until(
            () -> kubelet.pods(NS, name).stream().map(p -> p.getMetadata().getUid()).toList(),
            uids -> uids.stream().noneMatch(stale::contains));
    assertMeteredOnceEach(gang);
    client.resources(TrainingJob.class).inNamespace(NS).withName(name).delete();
  }

  @Test
  void gangPodsNoStatusListedAreMeteredWhenTheJobIsDeleted() throws Exception {
    String name = "unlisted-gang-deleted";
    // deleted while no leader looks: the next leader's first look at it is its cleanup
    UnlistedGang gang =
        unlistedRunningGang(
            name,
            () -> client.resources(TrainingJob.class).inNamespace(NS).withName(name).delete());
    await().atMost(TIMEOUT).until(() -> kubelet.pods(NS, name).isEmpty() && stored(name) == null);
    assertMeteredOnceEach(gang);
  }

  /** The job's UID and its gang's pod UIDs. */
  private record UnlistedGang(String jobUid, List<String> podUids) {}

  /**
   * A two-worker job in a region of its own, placed; then, while no leader looks, its status
   * written without the placement (the dying leader's write that never reached the server), its
   * gang run past the second a running pod's charge trails its view, and {@code meanwhile} done to
   * its spec. Returns once the next leader has been woken.
   */
  private UnlistedGang unlistedRunningGang(String name, Consumer<TrainingJob> meanwhile)
      throws InterruptedException {
    return unlistedRunningGang(
        name,
        () ->
            client
                .resources(TrainingJob.class)
                .inNamespace(NS)
                .withName(name)
                .edit(
                    j -> {
                      meanwhile.accept(j);
                      return j;
                    }));
  }

  /** As above, with {@code meanwhile} done to the cluster (the job deleted, say). */
  private UnlistedGang unlistedRunningGang(String name, Runnable meanwhile)
      throws InterruptedException {
    pool(client, "r-" + name, null, 2);
    client.resource(job(name, "r-" + name, 2, PAYER)).create();
    TrainingJob placed =
        await()
            .atMost(TIMEOUT)
            .until(() -> stored(name), j -> listed(j) == 2 && kubelet.live(NS, name).size() == 2);
    String uid = placed.getMetadata().getUid();
    List<Pod> pods = kubelet.live(NS, name);
    LeaderGap gap = LeaderGap.open(binder, NS, uid, TIMEOUT);
    try {
      Thread.sleep(500); // a step already under way ends
      client
          .resources(TrainingJob.class)
          .inNamespace(NS)
          .withName(name)
          .editStatus(
              j -> {
                j.getStatus().placements = null;
                return j;
              });
      pods.forEach(kubelet::run);
      await()
          .atMost(TIMEOUT)
          .until(() -> kubelet.live(NS, name).stream().allMatch(UnlistedGangUsageIT::running));
      Thread.sleep(2100);
      assertThat(listed(stored(name))).as("no status lists the running gang").isZero();
      meanwhile.run();
    } finally {
      gap.end();
    }
    gap.nextLeaderLooks(client, pods.get(0));
    return new UnlistedGang(uid, pods.stream().map(p -> p.getMetadata().getUid()).toList());
  }

  /** Each pod of the gang, and nothing else, has one ended record, of a positive time. */
  private void assertMeteredOnceEach(UnlistedGang gang) {
    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () -> {
              billing.meter().meterJob(gang.jobUid());
              Map<String, PodRecord> records = billing.store().pods(gang.jobUid());
              assertThat(records.keySet())
                  .as("the gang's pods metered, each once")
                  .containsExactlyInAnyOrderElementsOf(gang.podUids());
              gang.podUids().forEach(p -> assertThat(records.get(p).ended()).isTrue());
            });
    Map<String, PodRecord> records = billing.store().pods(gang.jobUid());
    for (String pod : gang.podUids()) {
      var lifetime = records.get(pod).lifetime();
      assertThat(Duration.between(lifetime.start(), lifetime.end()))
          .as("metered from its start to its deletion")
          .isPositive();
    }
  }

  private TrainingJob stored(String name) {
    return client.resources(TrainingJob.class).inNamespace(NS).withName(name).get();
  }

  private static int listed(TrainingJob job) {
    return job == null || job.getStatus() == null || job.getStatus().placements == null
        ? 0
        : job.getStatus().placements.size();
  }

  private static boolean running(Pod p) {
    return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
  }
}
