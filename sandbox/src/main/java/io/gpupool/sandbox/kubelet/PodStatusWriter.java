package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Writes pod status as a kubelet does; a pod deleted meanwhile is forgotten. */
final class PodStatusWriter {

  private final KubeletState state;

  PodStatusWriter(KubeletState state) {
    this.state = state;
  }

  void write(Pod pod, Consumer<PodStatus> change) {
    try {
      state
          .client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .editStatus(
              p -> {
                if (p.getStatus() == null) {
                  p.setStatus(new PodStatus());
                }
                change.accept(p.getStatus());
                return p;
              });
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        state.forget(pod.getMetadata().getUid());
        return;
      }
      throw e;
    }
  }

  /** Ready and ContainersReady follow the node (NodeNotReady while it is down). */
  void setReady(PodRun run, boolean ready) {
    try {
      state
          .client
          .pods()
          .inNamespace(run.namespace)
          .withName(run.name)
          .editStatus(
              p -> {
                String now = state.now();
                String reason = ready ? null : "NodeNotReady";
                upsertCondition(
                    p.getStatus(), condition("Ready", ready ? "True" : "False", reason, now));
                upsertCondition(
                    p.getStatus(),
                    condition("ContainersReady", ready ? "True" : "False", reason, now));
                p.getStatus().getContainerStatuses().forEach(cs -> cs.setReady(ready));
                return p;
              });
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  static PodCondition condition(String type, String status, String reason, String now) {
    return new PodConditionBuilder()
        .withType(type)
        .withStatus(status)
        .withReason(reason)
        .withLastTransitionTime(now)
        .build();
  }

  static void upsertCondition(PodStatus status, PodCondition condition) {
    List<PodCondition> conditions = new ArrayList<>(status.getConditions());
    conditions.removeIf(c -> c.getType().equals(condition.getType()));
    conditions.add(condition);
    status.setConditions(conditions);
  }
}
