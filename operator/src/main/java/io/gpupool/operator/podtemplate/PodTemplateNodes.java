package io.gpupool.operator.podtemplate;

import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.gpupool.api.v1alpha1.PodTemplate;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which nodes a job's {@code spec.template} lets its pods run on: its nodeSelector, its required
 * node affinity and, for NoSchedule/NoExecute taints, its tolerations (plus the operator's own
 * {@code nvidia.com/gpu} one). The placement chooses only among these nodes, so the template
 * narrows the operator's choice and never overrides it; the kubelet would refuse a pod bound to a
 * node that does not match. Pure: evaluated the way the Kubernetes scheduler evaluates them.
 */
public final class PodTemplateNodes {
  /** The toleration every gpupool pod carries: GPU nodes are commonly tainted with it. */
  static final Toleration GPU_TOLERATION =
      new TolerationBuilder()
          .withKey("nvidia.com/gpu")
          .withOperator("Exists")
          .withEffect("NoSchedule")
          .build();

  private PodTemplateNodes() {}

  /** True when a pod of {@code template} may run on the node {@code name}. */
  public static boolean admits(
      PodTemplate template, String name, Map<String, String> labels, List<Taint> taints) {
    Map<String, String> nodeLabels = labels == null ? Map.of() : labels;
    if (template != null && template.nodeSelector != null) {
      for (Map.Entry<String, String> e : template.nodeSelector.entrySet()) {
        if (!e.getValue().equals(nodeLabels.get(e.getKey()))) {
          return false;
        }
      }
    }
    if (template != null && !requiredAffinity(template, name, nodeLabels)) {
      return false;
    }
    for (Taint taint : taints == null ? List.<Taint>of() : taints) {
      if ("PreferNoSchedule".equals(taint.getEffect())) {
        continue;
      }
      if (!tolerated(taint, template)) {
        return false;
      }
    }
    return true;
  }

  private static boolean requiredAffinity(
      PodTemplate template, String name, Map<String, String> labels) {
    if (template.affinity == null || template.affinity.getNodeAffinity() == null) {
      return true;
    }
    NodeSelector required =
        template.affinity.getNodeAffinity().getRequiredDuringSchedulingIgnoredDuringExecution();
    if (required == null
        || required.getNodeSelectorTerms() == null
        || required.getNodeSelectorTerms().isEmpty()) {
      return true;
    }
    // Terms are ORed; the requirements inside one term are ANDed.
    for (NodeSelectorTerm term : required.getNodeSelectorTerms()) {
      if (termMatches(term, name, labels)) {
        return true;
      }
    }
    return false;
  }

  private static boolean termMatches(
      NodeSelectorTerm term, String name, Map<String, String> labels) {
    boolean any = false;
    for (NodeSelectorRequirement r : orEmpty(term.getMatchExpressions())) {
      any = true;
      boolean present = r.getKey() != null && labels.containsKey(r.getKey());
      if (!matches(r, present ? labels.get(r.getKey()) : null, present)) {
        return false;
      }
    }
    for (NodeSelectorRequirement r : orEmpty(term.getMatchFields())) {
      any = true;
      boolean isName = "metadata.name".equals(r.getKey());
      if (!matches(r, isName ? name : null, isName)) {
        return false;
      }
    }
    return any; // an empty term matches no node, as in Kubernetes
  }

  static boolean matches(NodeSelectorRequirement r, String value, boolean present) {
    if (r.getKey() == null || r.getOperator() == null) {
      // Kubernetes requires both; a stored template may lack them (validation refuses it): such a
      // requirement matches no node rather than throwing on every placement.
      return false;
    }
    List<String> values = orEmpty(r.getValues());
    return switch (r.getOperator()) {
      case "In" -> present && values.contains(value);
      case "NotIn" -> !present || !values.contains(value);
      case "Exists" -> present;
      case "DoesNotExist" -> !present;
      case "Gt" -> present && compare(value, values) > 0;
      case "Lt" -> present && compare(value, values) < 0;
      default -> false;
    };
  }

  private static int compare(String value, List<String> values) {
    try {
      return Long.compare(Long.parseLong(value), Long.parseLong(values.get(0)));
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      return 0; // not comparable: neither greater nor less
    }
  }

  private static boolean tolerated(Taint taint, PodTemplate template) {
    if (tolerates(GPU_TOLERATION, taint)) {
      return true;
    }
    if (template == null || template.tolerations == null) {
      return false;
    }
    return template.tolerations.stream().anyMatch(t -> tolerates(t, taint));
  }

  static boolean tolerates(Toleration t, Taint taint) {
    if (t.getEffect() != null
        && !t.getEffect().isEmpty()
        && !t.getEffect().equals(taint.getEffect())) {
      return false;
    }
    if (t.getKey() == null || t.getKey().isEmpty()) {
      return "Exists".equals(t.getOperator()); // empty key + Exists tolerates everything
    }
    if (!t.getKey().equals(taint.getKey())) {
      return false;
    }
    return "Exists".equals(t.getOperator())
        || Objects.equals(
            t.getValue() == null ? "" : t.getValue(),
            taint.getValue() == null ? "" : taint.getValue());
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
