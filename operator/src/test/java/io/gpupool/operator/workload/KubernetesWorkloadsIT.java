package io.gpupool.operator.workload;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A group of pods is created whole or not at all, also when a create's answer is an error although
 * the API server stored the pod (its reply lost with the connection, a timeout after the write):
 * the chaos harness found such a pod left running on GPUs the job had given back, over-committing
 * its node when the job was placed again.
 */
@EnableKubernetesMockClient(crud = true)
class KubernetesWorkloadsIT {
  static final String NS = "ml";

  KubernetesClient client;
  KubernetesMockServer server;

  private static Pod pod(String name) {
    return pod(name, "job-uid");
  }

  private static Pod pod(String name, String ownerUid) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .addNewOwnerReference()
        .withApiVersion("gpupool.io/v1alpha1")
        .withKind("TrainingJob")
        .withName("job")
        .withUid(ownerUid)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName("node-a")
        .addNewContainer()
        .withName("worker")
        .withImage("w")
        .endContainer()
        .endSpec()
        .build();
  }

  @Test
  void aPodWhoseCreateFailedAfterItWasStoredIsRolledBackWithTheRest() {
    Workloads workloads = new KubernetesWorkloads(client);
    // the server stores the second pod, then its answer is an error
    client.pods().inNamespace(NS).resource(pod("job-w1")).create();
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces/" + NS + "/pods")
        .andReturn(201, pod("job-w0"))
        .once();
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces/" + NS + "/pods")
        .andReturn(
            500,
            new StatusBuilder().withCode(500).withMessage("etcd timed out after the write").build())
        .once();

    assertThatThrownBy(
            () ->
                workloads.createGroup(
                    NS, List.of(), List.of(pod("job-w0"), pod("job-w1")), (want, have) -> false))
        .isInstanceOf(Workloads.GroupNotCreated.class)
        .hasMessageContaining("rolled back after 1 of 2 pods");
    assertThat(client.pods().inNamespace(NS).list().getItems())
        .as("neither the created pod nor the one stored despite the error is left")
        .isEmpty();
  }

  @Test
  void aPodUnderTheFailedNameThatIsNotOursIsLeftAlone() {
    Workloads workloads = new KubernetesWorkloads(client);
    // another job's pod holds the name; the create's answer is an error that might hide a write
    client.pods().inNamespace(NS).resource(pod("job-w1", "another-job")).create();
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces/" + NS + "/pods")
        .andReturn(201, pod("job-w0"))
        .once();
    server
        .expect()
        .post()
        .withPath("/api/v1/namespaces/" + NS + "/pods")
        .andReturn(503, new StatusBuilder().withCode(503).withMessage("unavailable").build())
        .once();

    assertThatThrownBy(
            () ->
                workloads.createGroup(
                    NS, List.of(), List.of(pod("job-w0"), pod("job-w1")), (want, have) -> false))
        .isInstanceOf(Workloads.GroupNotCreated.class);
    assertThat(client.pods().inNamespace(NS).list().getItems())
        .as("our created pod is rolled back, the other job's pod under the name is not")
        .extracting(p -> p.getMetadata().getOwnerReferences().get(0).getUid())
        .containsExactly("another-job");
  }
}
