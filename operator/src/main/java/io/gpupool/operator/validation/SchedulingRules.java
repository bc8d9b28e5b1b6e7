package io.gpupool.operator.validation;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTerm;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What Kubernetes refuses in a pod's node affinity and tolerations, checked in a job's {@code
 * spec.template}. The CRD holds these as Kubernetes' own types, with no enums or required fields a
 * schema could check (and CEL over their nested lists would exceed the API server's cost budget),
 * so the API server stores a template whose pods it would then refuse: the operator says so in
 * SpecValid, in the words the API server uses for pods, before placing anything.
 */
final class SchedulingRules {
  private static final Set<String> REQUIREMENT_OPERATORS =
      Set.of("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt");
  private static final Set<String> TOLERATION_OPERATORS = Set.of("Equal", "Exists");
  private static final Set<String> TAINT_EFFECTS =
      Set.of("NoSchedule", "PreferNoSchedule", "NoExecute");

  private SchedulingRules() {}

  static void checkAffinity(SpecProblems p, String field, Affinity affinity) {
    NodeAffinity nodes = affinity == null ? null : affinity.getNodeAffinity();
    if (nodes == null) {
      return;
    }
    String node = field + ".nodeAffinity";
    if (nodes.getRequiredDuringSchedulingIgnoredDuringExecution() != null) {
      List<NodeSelectorTerm> terms =
          orEmpty(nodes.getRequiredDuringSchedulingIgnoredDuringExecution().getNodeSelectorTerms());
      for (int i = 0; i < terms.size(); i++) {
        checkTerm(
            p,
            node + ".requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[" + i + "]",
            terms.get(i));
      }
    }
    List<PreferredSchedulingTerm> preferred =
        orEmpty(nodes.getPreferredDuringSchedulingIgnoredDuringExecution());
    for (int i = 0; i < preferred.size(); i++) {
      checkTerm(
          p,
          node + ".preferredDuringSchedulingIgnoredDuringExecution[" + i + "].preference",
          preferred.get(i).getPreference());
    }
  }

  private static void checkTerm(SpecProblems p, String field, NodeSelectorTerm term) {
    if (term == null) {
      return;
    }
    List<NodeSelectorRequirement> expressions = orEmpty(term.getMatchExpressions());
    for (int i = 0; i < expressions.size(); i++) {
      checkRequirement(p, field + ".matchExpressions[" + i + "]", expressions.get(i));
    }
    List<NodeSelectorRequirement> fields = orEmpty(term.getMatchFields());
    for (int i = 0; i < fields.size(); i++) {
      checkRequirement(p, field + ".matchFields[" + i + "]", fields.get(i));
    }
  }

  private static void checkRequirement(SpecProblems p, String field, NodeSelectorRequirement r) {
    if (r.getKey() == null || r.getKey().isEmpty()) {
      p.add(field + ".key", "Required value");
    }
    String operator = r.getOperator();
    List<String> values = orEmpty(r.getValues());
    if (operator == null || operator.isEmpty()) {
      p.add(field + ".operator", "Required value");
    } else if (!REQUIREMENT_OPERATORS.contains(operator)) {
      p.add(
          field + ".operator",
          unsupported(operator, List.of("DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn")));
    } else if ((operator.equals("In") || operator.equals("NotIn")) && values.isEmpty()) {
      p.add(
          field + ".values",
          "Required value: must be specified when `operator` is 'In' or 'NotIn'");
    } else if ((operator.equals("Exists") || operator.equals("DoesNotExist"))
        && !values.isEmpty()) {
      p.add(
          field + ".values",
          "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
    } else if (operator.equals("Gt") || operator.equals("Lt")) {
      if (values.size() != 1) {
        p.add(
            field + ".values",
            "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'");
      } else if (!isInteger(values.get(0))) {
        p.add(
            field + ".values[0]",
            "Invalid value: \"" + values.get(0) + "\": must be an integer for 'Gt' and 'Lt'");
      }
    }
  }

  static void checkTolerations(SpecProblems p, String field, List<Toleration> tolerations) {
    List<Toleration> list = orEmpty(tolerations);
    for (int i = 0; i < list.size(); i++) {
      Toleration t = list.get(i);
      String at = field + "[" + i + "]";
      String operator = t.getOperator();
      if (operator != null && !operator.isEmpty() && !TOLERATION_OPERATORS.contains(operator)) {
        p.add(at + ".operator", unsupported(operator, List.of("Equal", "Exists")));
      } else if ("Exists".equals(operator) && t.getValue() != null && !t.getValue().isEmpty()) {
        p.add(
            at + ".operator",
            "Invalid value: \"Exists\": value must be empty when `operator` is 'Exists'");
      }
      if ((t.getKey() == null || t.getKey().isEmpty()) && !"Exists".equals(operator)) {
        p.add(
            at + ".operator",
            "Invalid value: \""
                + (operator == null ? "" : operator)
                + "\": operator must be Exists when `key` is empty, which means \"match all"
                + " values and all keys\"");
      }
      String effect = t.getEffect();
      if (effect != null && !effect.isEmpty() && !TAINT_EFFECTS.contains(effect)) {
        p.add(
            at + ".effect",
            unsupported(effect, List.of("NoExecute", "NoSchedule", "PreferNoSchedule")));
      }
    }
  }

  private static final Pattern NAME = Pattern.compile("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$");
  private static final Pattern PREFIX =
      Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");

  /**
   * Label and annotation keys, and label values, as Kubernetes checks them on a pod: the CRD stores
   * any string in {@code spec.template.labels}/{@code annotations}, and every pod of the job would
   * be refused at creation.
   */
  static void checkMetadata(
      SpecProblems p, String field, Map<String, String> entries, boolean labels) {
    if (entries == null) {
      return;
    }
    for (var e : new TreeMap<>(entries).entrySet()) {
      String key = e.getKey();
      int slash = key.lastIndexOf('/');
      String prefix = slash < 0 ? null : key.substring(0, slash);
      String name = key.substring(slash + 1);
      if (name.length() > 63
          || !NAME.matcher(name).matches()
          || (prefix != null && (prefix.length() > 253 || !PREFIX.matcher(prefix).matches()))) {
        p.add(
            field,
            "Invalid value: \""
                + key
                + "\": a qualified name: an optional DNS subdomain prefix and '/', then at most 63"
                + " alphanumeric characters, '-', '_' or '.', starting and ending alphanumeric");
      } else if (labels
          && e.getValue() != null
          && !e.getValue().isEmpty()
          && (e.getValue().length() > 63 || !NAME.matcher(e.getValue()).matches())) {
        p.add(
            field,
            "Invalid value: \""
                + e.getValue()
                + "\": a label value: at most 63 alphanumeric characters, '-', '_' or '.',"
                + " starting and ending alphanumeric");
      }
    }
  }

  private static String unsupported(String value, List<String> supported) {
    return "Unsupported value: \""
        + value
        + "\": supported values: "
        + String.join(", ", supported.stream().map(s -> "\"" + s + "\"").toList());
  }

  private static boolean isInteger(String s) {
    try {
      Long.parseLong(s);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static <T> List<T> orEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
