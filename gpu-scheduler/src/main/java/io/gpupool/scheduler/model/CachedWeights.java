package io.gpupool.scheduler.model;

import java.util.HashMap;
import java.util.Map;

/**
 * Model weights already on each node's local cache: node name → weights digest → bytes. Pure data
 * the operator learns from the cluster; the planner prefers nodes that hold a request's weights.
 */
public record CachedWeights(Map<String, Map<String, Long>> byNode) {
  public static final CachedWeights NONE = new CachedWeights(Map.of());

  public CachedWeights {
    Map<String, Map<String, Long>> copy = new HashMap<>();
    byNode.forEach((node, held) -> copy.put(node, Map.copyOf(held)));
    byNode = Map.copyOf(copy);
  }

  /** True when {@code node} holds the weights with this digest. */
  public boolean holds(String node, String digest) {
    Map<String, Long> held = byNode.get(node);
    return held != null && held.containsKey(digest);
  }

  /** Digests and sizes held on {@code node} (empty when none). */
  public Map<String, Long> on(String node) {
    return byNode.getOrDefault(node, Map.of());
  }
}
