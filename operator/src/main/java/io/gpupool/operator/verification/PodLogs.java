package io.gpupool.operator.verification;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Optional;

/** Reads a pod's log through the API server ({@code pods/log}), as {@code kubectl logs} does. */
public final class PodLogs {
  private final KubernetesClient client;

  public PodLogs(KubernetesClient client) {
    this.client = client;
  }

  /**
   * The log of the pod's first container (named, so the client asks for nothing else), or empty
   * when the server has none to give.
   */
  public Optional<String> read(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getContainers().isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.ofNullable(
          client
              .pods()
              .inNamespace(pod.getMetadata().getNamespace())
              .withName(pod.getMetadata().getName())
              .inContainer(pod.getSpec().getContainers().get(0).getName())
              .getLog());
    } catch (KubernetesClientException e) {
      return Optional.empty(); // not started yet, gone, or logs not served: looked at again later
    }
  }
}
