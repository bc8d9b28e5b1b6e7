package io.gpupool.scheduler.model;

import java.util.Objects;

/**
 * One weighted preference for nodes, as a pod's {@code
 * preferredDuringSchedulingIgnoredDuringExecution} node affinity term: a node matching {@code term}
 * earns {@code weight} (1 to 100, as Kubernetes allows). A preference never excludes a node; how
 * the planner weighs it against price is described in docs/scheduling.md ("Preferred nodes").
 */
public record PreferredNodeTerm(int weight, NodeTerm term) {
  public PreferredNodeTerm {
    Objects.requireNonNull(term);
    if (weight < 1 || weight > 100) {
      throw new IllegalArgumentException(
          "a preferred node term's weight must be in 1..100: " + weight);
    }
  }
}
