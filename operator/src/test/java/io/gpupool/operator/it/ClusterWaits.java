package io.gpupool.operator.it;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.InferenceJob;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * The waits the ITs share, each bounded by one timeout and polling the mock API server: never a
 * sleep, so a fast machine passes as soon as the operator has acted and a slow one still has the
 * whole bound.
 */
final class ClusterWaits {
  private final KubernetesClient client;
  private final Duration timeout;
  private final FakeKubelet kubelet;

  ClusterWaits(KubernetesClient client, Duration timeout) {
    this.client = client;
    this.timeout = timeout;
    this.kubelet = new FakeKubelet(client);
  }

  /** The job as stored once it has a status that {@code done} accepts. */
  <J extends CustomResource<?, ?>> J job(
      Class<J> kind, String namespace, String name, Predicate<J> done) {
    return await()
        .atMost(timeout)
        .until(
            () -> client.resources(kind).inNamespace(namespace).withName(name).get(),
            j -> j != null && j.getStatus() != null && done.test(j));
  }

  /**
   * The InferenceJob once {@code done} accepts it, running every new pod of the job as a kubelet
   * would meanwhile (replicas become ready only when their pods run).
   */
  InferenceJob serving(String namespace, String name, Predicate<InferenceJob> done) {
    return await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              kubelet.runNew(namespace, name);
              return client
                  .resources(InferenceJob.class)
                  .inNamespace(namespace)
                  .withName(name)
                  .get();
            },
            j -> j != null && j.getStatus() != null && done.test(j));
  }

  /** The job's live pods once there are exactly {@code n}. */
  List<Pod> pods(String namespace, String job, int n) {
    return await().atMost(timeout).until(() -> kubelet.live(namespace, job), p -> p.size() == n);
  }
}
