package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.operator.billing.BillingService;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One read model: however many parts of the operator read a kind (pods: both job controllers, the
 * GPU allocation tracker, usage metering; Nodes: the node inventory, the GpuProvider controller;
 * GpuProviders: the controller and the provider directory; ConfigMaps: the usage store; Namespaces:
 * the payer check), the API server sees one watch per kind, and metering a new pod asks it nothing
 * about the pod's job. Counted on the mock API server's own request log while a gang is placed, run
 * and metered, so the shared watch is also shown to carry the events the controllers act on.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(ReadModelIT.OwnServer.class)
class ReadModelIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String NS = "default";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";

  /** A profile of its own: a fresh operator and API server, so no other test's watches count. */
  public static class OwnServer implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      // Metered soon after the gang runs, so the test sees the meter take the pods in.
      return Map.of("gpupool.billing.metering-interval", "1s");
    }
  }

  @Inject KubernetesClient client;
  @Inject BillingService billing;

  @KubernetesTestServer KubernetesServer server;

  private ApiRequests requests;

  @BeforeEach
  void readRequests() {
    requests = new ApiRequests(server);
  }

  @Test
  void everyKindIsWatchedOnceWhateverReadsIt() throws Exception {
    client.resource(TestNodes.provider("prov-rm", RTX4090, "0.40")).create();
    for (int i = 0; i < 2; i++) {
      client.resource(TestNodes.gpuNode("rm-" + i, "prov-rm", RTX4090, 1, 24564, "r-rm")).create();
    }
    client.resource(job("rm", "r-rm", 2)).create();
    List<Pod> gang =
        await()
            .atMost(TIMEOUT)
            .until(() -> new FakeKubelet(client).pods(NS, "rm"), pods -> pods.size() == 2);
    // The gang's pods running reach the training controller only through the shared pod watch.
    gang.forEach(new FakeKubelet(client)::run);
    // Read by listing: a GET of the job by name would be counted as the operator's below.
    TrainingJob running =
        await()
            .atMost(TIMEOUT)
            .until(
                () -> listed("rm"),
                j ->
                    j != null
                        && j.getStatus() != null
                        && j.getStatus().phase == TrainingJobPhase.Running);
    String uid = running.getMetadata().getUid();
    await().atMost(TIMEOUT).until(() -> billing.store().pods(uid).size(), n -> n == 2);

    Map<String, List<String>> watches = requests.watchesByKind();
    assertThat(watches.keySet())
        .as("kinds the operator watches")
        .containsAll(
            List.of(
                "pods",
                "nodes",
                "gpuproviders",
                "trainingjobs",
                "inferencejobs",
                "gpuqueues",
                "services",
                "configmaps",
                "namespaces",
                "billingaccounts"));
    // Pods: both controllers, allocation and metering; Nodes: inventory, GpuProvider controller
    // and metering; GpuProviders: controller and directory; ConfigMaps: the usage store;
    // Namespaces: billing's payer check and the scope's selector.
    assertThat(watches)
        .as("watch requests per kind, whatever reads it")
        .allSatisfy((kind, opened) -> assertThat(opened).as(kind).hasSize(1));
    assertThat(requests.gets("/apis/gpupool.io/v1alpha1/namespaces/" + NS + "/trainingjobs/rm"))
        .as("GETs of the job while its two pods were metered (found in the controller's cache)")
        .isEmpty();
  }

  private TrainingJob listed(String name) {
    return client.resources(TrainingJob.class).inNamespace(NS).list().getItems().stream()
        .filter(j -> name.equals(j.getMetadata().getName()))
        .findFirst()
        .orElse(null);
  }

  /**
   * The reconcile right after a status write starts from that write (JOSDK's cache holds it until
   * the watch delivers it): each phase is entered once, and one gang is created, even though the
   * gang's pod events wake the job again while its Scheduled status may not be delivered yet.
   */
  @Test
  void theReconcileAfterAStatusWriteStartsFromIt() {
    client.resource(TestNodes.provider("prov-rw", RTX4090, "0.40")).create();
    for (int i = 0; i < 4; i++) {
      client.resource(TestNodes.gpuNode("rw-" + i, "prov-rw", RTX4090, 1, 24564, "r-rw")).create();
    }
    for (String name : List.of("rw-a", "rw-b")) {
      client.resource(job(name, "r-rw", 2)).create();
    }
    for (String name : List.of("rw-a", "rw-b")) {
      List<Pod> gang =
          await()
              .atMost(TIMEOUT)
              .until(() -> new FakeKubelet(client).pods(NS, name), pods -> pods.size() == 2);
      gang.forEach(new FakeKubelet(client)::run);
    }
    for (String name : List.of("rw-a", "rw-b")) {
      TrainingJob job =
          await()
              .atMost(TIMEOUT)
              .until(
                  () -> client.resources(TrainingJob.class).inNamespace(NS).withName(name).get(),
                  j -> j.getStatus() != null && j.getStatus().phase == TrainingJobPhase.Running);
      assertThat(job.getStatus().restarts).as(name + " restarts").isIn(null, 0);
      List<String> phases =
          await()
              .atMost(TIMEOUT)
              .until(() -> phaseEvents(name), reasons -> reasons.contains("Running"));
      assertThat(phases).as(name + " phase events").doesNotHaveDuplicates();
      assertThat(new FakeKubelet(client).pods(NS, name))
          .as(name + ": one gang, never a second")
          .hasSize(2);
    }
  }

  /** The phase events recorded for a job. */
  private List<String> phaseEvents(String job) {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName()))
        // the loop's phase events ("TrainingJob is Scheduled"), not the placement's own Scheduled
        .filter(e -> e.getMessage() != null && e.getMessage().startsWith("TrainingJob is "))
        .map(e -> e.getReason())
        .toList();
  }

  private static TrainingJob job(String name, String region, int workers) {
    return TestJobs.training(NS, name, region, workers);
  }
}
