package io.gpupool.scheduler.model;

import java.util.List;
import java.util.Map;

/**
 * A node selector term as Kubernetes reads one: its label requirements ({@code matchExpressions})
 * and field requirements ({@code matchFields}, of which only {@code metadata.name} names anything)
 * must all hold. A term with no requirement matches no node, as in Kubernetes.
 */
public record NodeTerm(List<NodeRequirement> labels, List<NodeRequirement> fields) {
  /** The one node field a {@code matchFields} requirement may test. */
  public static final String NAME_FIELD = "metadata.name";

  public NodeTerm {
    labels = labels == null ? List.of() : List.copyOf(labels);
    fields = fields == null ? List.of() : List.copyOf(fields);
  }

  /** A term of label requirements only. */
  public static NodeTerm ofLabels(NodeRequirement... requirements) {
    return new NodeTerm(List.of(requirements), List.of());
  }

  /**
   * True when the node {@code name} with {@code nodeLabels} (null: none) meets every requirement.
   */
  public boolean matches(String name, Map<String, String> nodeLabels) {
    if (labels.isEmpty() && fields.isEmpty()) {
      return false;
    }
    Map<String, String> l = nodeLabels == null ? Map.of() : nodeLabels;
    for (NodeRequirement r : labels) {
      boolean present = r.key() != null && l.containsKey(r.key());
      if (!r.matches(present ? l.get(r.key()) : null, present)) {
        return false;
      }
    }
    for (NodeRequirement r : fields) {
      boolean isName = NAME_FIELD.equals(r.key());
      if (!r.matches(isName ? name : null, isName)) {
        return false;
      }
    }
    return true;
  }
}
