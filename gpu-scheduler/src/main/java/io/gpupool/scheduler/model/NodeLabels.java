package io.gpupool.scheduler.model;

import java.util.HashMap;
import java.util.Map;

/**
 * The labels of each node (node name → labels), as the operator reads them from the cluster. The
 * planner needs them only to score a request's preferred node terms; every other node fact it uses
 * is already a field of {@link PoolNode}.
 */
public record NodeLabels(Map<String, Map<String, String>> byNode) {
  public static final NodeLabels NONE = new NodeLabels(Map.of());

  public NodeLabels {
    Map<String, Map<String, String>> copy = new HashMap<>();
    byNode.forEach((node, labels) -> copy.put(node, Map.copyOf(labels)));
    byNode = Map.copyOf(copy);
  }

  /** The labels of {@code node} (empty when unknown). */
  public Map<String, String> of(String node) {
    return byNode.getOrDefault(node, Map.of());
  }
}
