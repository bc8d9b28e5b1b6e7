package io.gpupool.sandbox.kubelet;

import static io.gpupool.sandbox.kubelet.KubeletSimulator.FAULT_LABEL;
import static io.gpupool.sandbox.kubelet.KubeletSimulator.UNREACHABLE_TAINT;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.sandbox.kubelet.KubeletSimulator.EvictionMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The node side of the simulation: a node's Ready condition and unreachable taint (set through the
 * fault label or the simulator's calls), eviction of pods from a node that stays down (the taint
 * manager, or the older NodeLost failure), and the pod garbage collector for removed nodes.
 */
final class NodeLifecycle {

  private final KubeletState state;
  private final PodLifecycle pods;
  private final PodStatusWriter statuses;

  NodeLifecycle(KubeletState state, PodLifecycle pods, PodStatusWriter statuses) {
    this.state = state;
    this.pods = pods;
    this.statuses = statuses;
  }

  /** A node added or changed: fault labels applied, waiting pods started once it is Ready. */
  void onNode(Node node) {
    String name = node.getMetadata().getName();
    boolean known = state.nodes.containsKey(name);
    state.nodes.put(name, node);
    if (!known && PodFacts.isReady(node) && !state.leasedAtStart.remove(name)) {
      NodeLeases.renew(state.client, node, state.clock.instant());
    }
    String fault =
        node.getMetadata().getLabels() == null
            ? null
            : node.getMetadata().getLabels().get(FAULT_LABEL);
    if (fault != null) {
      switch (fault) {
        case "NotReady" -> {
          if (PodFacts.isReady(node)) {
            setNodeReady(name, false);
          }
          return;
        }
        case "Ready" -> {
          if (!PodFacts.isReady(node)) {
            setNodeReady(name, true);
          }
        }
        case "Removed" -> {
          state.client.nodes().withName(name).delete();
          onNodeDeleted(name);
          return;
        }
        default -> state.log.accept("node/" + name + ": unknown " + FAULT_LABEL + "=" + fault);
      }
    }
    if (PodFacts.isReady(node)) {
      // pods that waited for this node
      for (Pod pod : state.pods()) {
        if (name.equals(pod.getSpec().getNodeName())) {
          pods.onPod(pod);
        }
      }
    }
  }

  /**
   * Ready=True or Unknown with the unreachable taint; its pods' readiness follows, and pods on a
   * node down past their toleration are evicted.
   */
  void setNodeReady(String name, boolean ready) {
    Node current = state.client.nodes().withName(name).get();
    if (current == null) {
      throw new IllegalArgumentException("no node " + name);
    }
    String now = state.now();
    Node updated =
        state
            .client
            .nodes()
            .withName(name)
            .editStatus(
                n -> {
                  for (NodeCondition c : n.getStatus().getConditions()) {
                    if ("Ready".equals(c.getType())) {
                      c.setStatus(ready ? "True" : "Unknown");
                      c.setReason(ready ? "KubeletReady" : "NodeStatusUnknown");
                      c.setMessage(
                          ready
                              ? "kubelet is posting ready status (simulated)"
                              : "Kubelet stopped posting node status.");
                      c.setLastTransitionTime(now);
                      c.setLastHeartbeatTime(now);
                    }
                  }
                  return n;
                });
    state
        .client
        .nodes()
        .withName(name)
        .edit(
            n -> {
              List<Taint> taints =
                  new ArrayList<>(
                      n.getSpec().getTaints() == null ? List.of() : n.getSpec().getTaints());
              taints.removeIf(t -> UNREACHABLE_TAINT.equals(t.getKey()));
              if (!ready) {
                taints.add(
                    new TaintBuilder()
                        .withKey(UNREACHABLE_TAINT)
                        .withEffect("NoExecute")
                        .withTimeAdded(now)
                        .build());
              }
              n.getSpec().setTaints(taints);
              return n;
            });
    state.nodes.put(name, updated);
    if (ready) {
      NodeLeases.renew(state.client, updated, state.clock.instant());
    }
    state.log.accept("node/" + name + " " + (ready ? "Ready" : "NotReady"));
    state.events.record(
        "Node",
        "default",
        name,
        updated.getMetadata().getUid(),
        "Normal",
        ready ? "NodeReady" : "NodeNotReady",
        "Node " + name + " status is now: " + (ready ? "NodeReady" : "NodeNotReady"),
        "node-controller",
        null);
    for (Map.Entry<String, PodRun> entry : new ArrayList<>(state.runs.entrySet())) {
      PodRun run = entry.getValue();
      if (!run.node.equals(name)) {
        continue;
      }
      if (!ready && state.processes != null) {
        // the machine failed: its processes die with it, whatever the API says of the pod
        state.processes.stop(entry.getKey(), true, 0);
      }
      statuses.setReady(run, ready);
      if (ready && run.unreportedExit != null) {
        Pod pod = state.current(run);
        if (pod != null) {
          pods.complete(pod, run, run.unreportedExit);
        }
        continue;
      }
      if (ready) {
        if (run.eviction != null) {
          run.eviction.cancel(false);
          run.eviction = null;
        }
      } else if (run.eviction == null) {
        Pod pod = state.current(run);
        if (pod != null) {
          Duration timeout = evictionTimeout(pod);
          run.eviction =
              state.executor.schedule(
                  state.safely(() -> evict(run, pod)),
                  state.wallMillis(timeout),
                  TimeUnit.MILLISECONDS);
        }
      }
    }
  }

  private Duration evictionTimeout(Pod pod) {
    for (Toleration t : pod.getSpec().getTolerations()) {
      boolean matches =
          UNREACHABLE_TAINT.equals(t.getKey())
              || (t.getKey() == null && "Exists".equals(t.getOperator()));
      if (matches && (t.getEffect() == null || "NoExecute".equals(t.getEffect()))) {
        return t.getTolerationSeconds() == null
            ? Duration.ofDays(3650)
            : Duration.ofSeconds(t.getTolerationSeconds());
      }
    }
    return state.options.evictionTimeout();
  }

  private void evict(PodRun run, Pod pod) {
    if (!state.runs.containsKey(pod.getMetadata().getUid())) {
      return;
    }
    Node node = state.nodes.get(run.node);
    if (node != null && PodFacts.isReady(node)) {
      return;
    }
    if (state.current(run) == null) {
      state.forget(run.uid); // gone, or its name taken by a pod this node does not run
      return;
    }
    if (state.options.evictionMode() == EvictionMode.FAIL) {
      pods.finish(
          pod,
          run,
          137,
          "NodeLost",
          "Node " + run.node + " which was running pod " + run.name + " is unresponsive");
      return;
    }
    state.log.accept(
        "pod/" + run.namespace + "/" + run.name + " evicted from NotReady node " + run.node);
    state.events.record(
        "Pod",
        run.namespace,
        run.name,
        pod.getMetadata().getUid(),
        "Normal",
        "TaintManagerEviction",
        "Marking for deletion Pod " + run.namespace + "/" + run.name,
        "taint-eviction-controller",
        null);
    try {
      state
          .client
          .pods()
          .inNamespace(run.namespace)
          .withName(run.name)
          .editStatus(
              p -> {
                PodStatusWriter.upsertCondition(
                    p.getStatus(),
                    new PodConditionBuilder()
                        .withType("DisruptionTarget")
                        .withStatus("True")
                        .withReason("DeletionByTaintManager")
                        .withMessage("Taint manager: deleting due to NoExecute taint")
                        .withLastTransitionTime(state.now())
                        .build());
                return p;
              });
    } catch (KubernetesClientException e) {
      // already gone
    }
    state.forget(pod.getMetadata().getUid());
    state.client.pods().inNamespace(run.namespace).withName(run.name).delete();
  }

  /** The pod garbage collector: pods bound to a node that no longer exists are deleted. */
  void onNodeDeleted(String name) {
    state.nodes.remove(name);
    state.weightsPulls.forgetNode(name); // its disk went with it
    // pod GC: pods bound to a node that no longer exists are deleted
    for (Pod pod : state.pods()) {
      if (name.equals(pod.getSpec().getNodeName())) {
        state.log.accept(
            "pod/"
                + pod.getMetadata().getNamespace()
                + "/"
                + pod.getMetadata().getName()
                + " deleted: node "
                + name
                + " is gone");
        if (state.processes != null) {
          state.processes.stop(
              pod.getMetadata().getUid(), true, 0); // the machine is gone: no grace
        }
        state.forget(pod.getMetadata().getUid());
        state
            .client
            .pods()
            .inNamespace(pod.getMetadata().getNamespace())
            .withName(pod.getMetadata().getName())
            .delete();
      }
    }
  }
}
