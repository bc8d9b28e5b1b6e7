package io.gpupool.operator.podtemplate;

import io.fabric8.kubernetes.api.model.NodeSelector;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.scheduler.model.NodeRequirement;
import io.gpupool.scheduler.model.NodeTerm;
import io.gpupool.scheduler.model.PreferredNodeTerm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Which nodes a job's {@code spec.template} lets its pods run on: its nodeSelector, its required
 * node affinity and, for NoSchedule/NoExecute taints, its tolerations (plus the operator's own
 * {@code nvidia.com/gpu} one). The placement chooses only among these nodes, so the template
 * narrows the operator's choice and never overrides it; the kubelet would refuse a pod bound to a
 * node that does not match. Its preferred node affinity does not narrow anything: it is handed to
 * the planner as weighted terms ({@link #preferred}), which ranks preferred nodes first. Pure:
 * evaluated the way the Kubernetes scheduler evaluates them.
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
      if (term(term).matches(name, labels)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The template's preferred node affinity as the scheduler's weighted terms (empty when none).
   * Terms without a preference or with a weight outside 1..100 are left out: validation refuses
   * them ({@code SchedulingRules}), and a stored one must not fail every placement.
   */
  public static List<PreferredNodeTerm> preferred(PodTemplate template) {
    if (template == null
        || template.affinity == null
        || template.affinity.getNodeAffinity() == null) {
      return List.of();
    }
    List<PreferredNodeTerm> out = new ArrayList<>();
    for (PreferredSchedulingTerm t :
        orEmpty(
            template
                .affinity
                .getNodeAffinity()
                .getPreferredDuringSchedulingIgnoredDuringExecution())) {
      Integer w = t.getWeight();
      if (t.getPreference() != null && w != null && w >= 1 && w <= 100) {
        out.add(new PreferredNodeTerm(w, term(t.getPreference())));
      }
    }
    return out;
  }

  /** Kubernetes' node selector term as the scheduler's, which matches it the same way. */
  static NodeTerm term(NodeSelectorTerm t) {
    return new NodeTerm(requirements(t.getMatchExpressions()), requirements(t.getMatchFields()));
  }

  private static List<NodeRequirement> requirements(List<NodeSelectorRequirement> rs) {
    return orEmpty(rs).stream()
        .map(r -> new NodeRequirement(r.getKey(), r.getOperator(), r.getValues()))
        .toList();
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
