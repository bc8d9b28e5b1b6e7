package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes pod status as a kubelet does: to the pod it admitted, by UID. A pod deleted meanwhile is
 * forgotten, also when a new pod has taken its name (a job placed again after an eviction keeps its
 * pod names): a kubelet behind its API server once wrote the end of the deleted pod onto the new
 * one, which showed Succeeded while it ran, and the operator gave its GPU to the next job.
 */
final class PodStatusWriter {

  private final KubeletState state;

  PodStatusWriter(KubeletState state) {
    this.state = state;
  }

  /** The pod under the name is another one than the kubelet writes for. */
  private static final class Replaced extends RuntimeException {
    Replaced() {
      super(null, null, false, false);
    }
  }

  void write(Pod pod, Consumer<PodStatus> change) {
    String uid = pod.getMetadata().getUid();
    edit(
        pod.getMetadata().getNamespace(),
        pod.getMetadata().getName(),
        uid,
        p -> {
          if (p.getStatus() == null) {
            p.setStatus(new PodStatus());
          }
          change.accept(p.getStatus());
        });
  }

  /** Edits the status of pod {@code namespace/name} if it still is {@code uid}; else forgets it. */
  private void edit(String namespace, String name, String uid, Consumer<Pod> change) {
    try {
      state
          .client
          .pods()
          .inNamespace(namespace)
          .withName(name)
          .editStatus(
              p -> {
                if (!uid.equals(p.getMetadata().getUid())) {
                  throw new Replaced();
                }
                change.accept(p);
                return p;
              });
    } catch (Replaced e) {
      state.log.accept(
          "pod/"
              + namespace
              + "/"
              + name
              + " "
              + uid
              + " is gone, its name taken by another pod: nothing written, forgotten");
      state.forget(uid);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        state.forget(uid);
        return;
      }
      throw e;
    }
  }

  /** Ready and ContainersReady follow the node (NodeNotReady while it is down). */
  void setReady(PodRun run, boolean ready) {
    edit(
        run.namespace,
        run.name,
        run.uid,
        p -> {
          String now = state.now();
          String reason = ready ? null : "NodeNotReady";
          upsertCondition(p.getStatus(), condition("Ready", ready ? "True" : "False", reason, now));
          upsertCondition(
              p.getStatus(), condition("ContainersReady", ready ? "True" : "False", reason, now));
          p.getStatus().getContainerStatuses().forEach(cs -> cs.setReady(ready));
        });
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
