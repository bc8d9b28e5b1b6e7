package io.gpupool.operator.inference;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.scheduler.model.CachedWeights;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Which nodes hold which model weights in their local cache, learned from the pods whose fetch
 * finished on them (a node keeps the weights after the pod is gone). A node that leaves the cluster
 * is forgotten, so a node that registers again under the same name (re-imaged, replaced) starts
 * cold. Placement reads it as {@link CachedWeights}.
 */
@ApplicationScoped
public class WeightsCacheBook {
  private static final Logger LOG = Logger.getLogger(WeightsCacheBook.class);

  /** node → digest → bytes. */
  private final Map<String, Map<String, Long>> byNode = new ConcurrentHashMap<>();

  /** A book fed by hand (tests). */
  public WeightsCacheBook() {}

  /** Learns from whatever pods the operator sees; forgets nodes {@code inventory} loses. */
  @Inject
  public WeightsCacheBook(NodeInventory inventory) {
    inventory.onChange(
        node -> {
          if (inventory.node(node).isEmpty()) {
            forgetNode(node);
          }
        });
  }

  /** Records the weights of every pod in {@code pods} whose fetch has finished on its node. */
  public void learn(Collection<Pod> pods) {
    for (Pod p : pods) {
      String node = p.getSpec() == null ? null : p.getSpec().getNodeName();
      if (node == null) {
        continue;
      }
      ModelCache.outcome(p)
          .filter(ModelCache.Outcome::done)
          .filter(o -> cachedVolume(p))
          .ifPresent(o -> record(node, o.digest(), o.bytes()));
    }
  }

  /** Records that {@code node} holds the weights {@code digest} of {@code bytes}. */
  public void record(String node, String digest, long bytes) {
    Long before = byNode.computeIfAbsent(node, n -> new ConcurrentHashMap<>()).put(digest, bytes);
    if (before == null) {
      LOG.infof("Node(%s) holds weights %s (%d bytes)", node, digest, bytes);
    }
  }

  /** Forgets everything about a node (it left the cluster). */
  public void forgetNode(String node) {
    if (byNode.remove(node) != null) {
      LOG.infof("Node(%s) left: its weights cache is forgotten", node);
    }
  }

  /** What the nodes in {@code nodes} hold, for the scheduler. */
  public CachedWeights cached(Set<String> nodes) {
    Map<String, Map<String, Long>> out = new HashMap<>();
    byNode.forEach(
        (node, held) -> {
          if (nodes.contains(node) && !held.isEmpty()) {
            out.put(node, Map.copyOf(held));
          }
        });
    return out.isEmpty() ? CachedWeights.NONE : new CachedWeights(out);
  }

  /** Only a hostPath cache outlives its pod; an emptyDir goes with it. */
  private static boolean cachedVolume(Pod p) {
    return p.getSpec().getVolumes() != null
        && p.getSpec().getVolumes().stream()
            .anyMatch(v -> ModelCache.VOLUME.equals(v.getName()) && v.getHostPath() != null);
  }
}
