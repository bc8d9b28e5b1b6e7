package io.gpupool.e2e;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.kubelet.KubeletSimulator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Community nodes coming and going: a node stops reporting (NotReady) and comes back, a node leaves
 * the cluster (deleted) and re-joins later, a new node joins. Each change is counted; {@link
 * #restoreAll} brings every node back and takes away the nodes the churn added at the end of a run.
 */
final class NodeChurn {
  private final KubernetesClient admin;
  private final KubeletSimulator kubelet;
  private final Random random;
  private final Map<String, Instant> notReadyUntil = new HashMap<>();
  private final Map<String, Node> removed = new HashMap<>();
  private final Map<String, Instant> rejoinAt = new HashMap<>();
  private final List<String> added = new ArrayList<>();
  private long notReady;
  private long removals;
  private long rejoins;
  private long newNodes;

  NodeChurn(KubernetesClient admin, KubeletSimulator kubelet, long seed) {
    this.admin = admin;
    this.kubelet = kubelet;
    this.random = new Random(seed);
  }

  /** One random change to a node that is up now: NotReady (40 %), removal (40 %), a new node. */
  synchronized void step() {
    List<Node> up = new ArrayList<>();
    for (Node n : admin.nodes().list().getItems()) {
      String name = n.getMetadata().getName();
      if (!notReadyUntil.containsKey(name) && gpuNode(n)) {
        up.add(n);
      }
    }
    if (up.size() < 4) {
      return; // keep most of the pool: churn, not an outage
    }
    Node node = up.get(random.nextInt(up.size()));
    String name = node.getMetadata().getName();
    double u = random.nextDouble();
    if (u < 0.4) {
      kubelet.nodeNotReady(name);
      notReadyUntil.put(name, Instant.now().plusSeconds(5 + random.nextInt(20)));
      notReady++;
    } else if (u < 0.8) {
      kubelet.removeNode(name);
      removed.put(name, node);
      rejoinAt.put(name, Instant.now().plusSeconds(10 + random.nextInt(30)));
      removals++;
    } else {
      String newName = name + "-joined-" + (newNodes + 1);
      kubelet.addNode(fresh(node, newName));
      added.add(newName);
      newNodes++;
    }
  }

  /** Brings back nodes whose time has come (NotReady ones report again, removed ones re-join). */
  synchronized void heal(boolean all) {
    Instant now = Instant.now();
    for (var e : List.copyOf(notReadyUntil.entrySet())) {
      if (all || now.isAfter(e.getValue())) {
        kubelet.nodeReady(e.getKey());
        notReadyUntil.remove(e.getKey());
      }
    }
    for (var e : List.copyOf(rejoinAt.entrySet())) {
      if (all || now.isAfter(e.getValue())) {
        Node old = removed.remove(e.getKey());
        rejoinAt.remove(e.getKey());
        kubelet.addNode(fresh(old, e.getKey()));
        rejoins++;
      }
    }
  }

  /**
   * The pool as it was, at the end of a run: every node back, and the nodes the churn added gone.
   * An added node joins under its original's provider, whose stake then no longer covers its GPUs:
   * the stake gate would keep every node of that provider out and leave jobs Pending for good.
   */
  synchronized void restoreAll() {
    heal(true);
    for (String name : added) {
      kubelet.removeNode(name);
    }
    added.clear();
  }

  private static boolean gpuNode(Node n) {
    Map<String, String> labels = n.getMetadata().getLabels();
    return labels != null && "true".equals(labels.get("nvidia.com/gpu.present"));
  }

  /** {@code node} as a new object named {@code name}: no uid, version or fault state. */
  private static Node fresh(Node node, String name) {
    Node copy =
        new NodeBuilder(node)
            .editMetadata()
            .withName(name)
            .withUid(null)
            .withResourceVersion(null)
            .withCreationTimestamp(null)
            .addToLabels("kubernetes.io/hostname", name)
            .endMetadata()
            .build();
    if (copy.getMetadata().getLabels() != null) {
      copy.getMetadata().getLabels().remove(KubeletSimulator.FAULT_LABEL);
    }
    if (copy.getSpec() != null && copy.getSpec().getTaints() != null) {
      copy.getSpec()
          .setTaints(
              copy.getSpec().getTaints().stream()
                  .filter(t -> !t.getKey().startsWith("node.kubernetes.io/"))
                  .toList());
    }
    if (copy.getStatus() != null && copy.getStatus().getConditions() != null) {
      copy.getStatus()
          .getConditions()
          .forEach(
              c -> {
                if ("Ready".equals(c.getType())) {
                  c.setStatus("True");
                  c.setReason("KubeletReady");
                }
              });
    }
    return copy;
  }

  long notReady() {
    return notReady;
  }

  long removals() {
    return removals;
  }

  long rejoins() {
    return rejoins;
  }

  long newNodes() {
    return newNodes;
  }

  static Duration jitter(Random random, Duration mean) {
    return Duration.ofMillis((long) (mean.toMillis() * (0.5 + random.nextDouble())));
  }
}
