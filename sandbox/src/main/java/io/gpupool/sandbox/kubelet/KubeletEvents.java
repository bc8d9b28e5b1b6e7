package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.function.Consumer;

/** Writes the core/v1 Events the kubelet, the node controller and the taint manager would. */
final class KubeletEvents {
  private final KubernetesClient client;
  private final Clock clock;
  private final Consumer<String> log;

  KubeletEvents(KubernetesClient client, Clock clock, Consumer<String> log) {
    this.client = client;
    this.clock = clock;
    this.log = log;
  }

  /** Records a core/v1 Event about a pod or node, as the kubelet and controllers do. */
  void record(
      String kind,
      String namespace,
      String name,
      String uid,
      String type,
      String reason,
      String message,
      String component,
      String host) {
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    try {
      client
          .v1()
          .events()
          .inNamespace(namespace)
          .resource(
              new EventBuilder()
                  .withNewMetadata()
                  .withName(name + "." + Long.toHexString(System.nanoTime()))
                  .withNamespace(namespace)
                  .endMetadata()
                  .withNewInvolvedObject()
                  .withApiVersion("v1")
                  .withKind(kind)
                  .withNamespace("Node".equals(kind) ? null : namespace)
                  .withName(name)
                  .withUid(uid)
                  .endInvolvedObject()
                  .withType(type)
                  .withReason(reason)
                  .withMessage(message)
                  .withNewSource()
                  .withComponent(component)
                  .withHost(host)
                  .endSource()
                  .withReportingComponent(component)
                  .withReportingInstance(host)
                  .withFirstTimestamp(now)
                  .withLastTimestamp(now)
                  .withCount(1)
                  .build())
          .create();
    } catch (KubernetesClientException e) {
      log.accept(
          "event " + reason + " for " + kind + " " + name + " not recorded: " + e.getMessage());
    }
  }

  void pod(Pod pod, String node, String type, String reason, String message) {
    record(
        "Pod",
        pod.getMetadata().getNamespace(),
        pod.getMetadata().getName(),
        pod.getMetadata().getUid(),
        type,
        reason,
        message,
        "kubelet",
        node);
  }
}
