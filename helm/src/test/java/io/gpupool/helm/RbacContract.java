package io.gpupool.helm;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The Kubernetes API calls the operator makes: "group/resource" to verbs, as e2e-tests'
 * RepresentativeRunE2E observed them (and its allow-list explains). The chart's files/rbac.yaml
 * must grant exactly this — no more, no less.
 */
final class RbacContract {
  static final Map<String, Set<String>> CLUSTER =
      Map.ofEntries(
          Map.entry("gpupool.io/trainingjobs", Set.of("get", "list", "watch", "patch")),
          Map.entry("gpupool.io/inferencejobs", Set.of("get", "list", "watch", "patch")),
          Map.entry("gpupool.io/gpuproviders", Set.of("list", "watch")),
          Map.entry("gpupool.io/trainingjobs/status", Set.of("patch")),
          Map.entry("gpupool.io/inferencejobs/status", Set.of("patch")),
          Map.entry("gpupool.io/gpuproviders/status", Set.of("patch")),
          Map.entry("gpupool.io/trainingjobs/finalizers", Set.of("update")),
          Map.entry("gpupool.io/inferencejobs/finalizers", Set.of("update")),
          Map.entry(
              "/pods",
              Set.of("get", "list", "watch", "create", "delete", "deletecollection", "patch")),
          // training spot-checks: a trainer's checkpoint lines, a verifier's result
          Map.entry("/pods/log", Set.of("get")),
          Map.entry(
              "/services",
              Set.of("get", "list", "watch", "create", "update", "delete", "deletecollection")),
          Map.entry("/events", Set.of("create")),
          Map.entry("/nodes", Set.of("list", "watch")),
          Map.entry("gpupool.io/gpuqueues", Set.of("list", "watch", "patch")),
          Map.entry("gpupool.io/gpuqueues/status", Set.of("patch")),
          Map.entry("/namespaces", Set.of("get", "list", "watch")),
          Map.entry("scheduling.k8s.io/priorityclasses", Set.of("get")),
          Map.entry("gpupool.io/billingaccounts", Set.of("list", "watch")),
          Map.entry("gpupool.io/billingaccounts/status", Set.of("patch")),
          Map.entry("apiextensions.k8s.io/customresourcedefinitions", Set.of("get", "patch")),
          // metrics.auth.enabled (the default): scrapers' tokens reviewed by the API server.
          Map.entry("authentication.k8s.io/tokenreviews", Set.of("create")),
          Map.entry("authorization.k8s.io/subjectaccessreviews", Set.of("create")));

  /** Usage records (ConfigMaps) in the release namespace, whatever else is enabled. */
  static final Map<String, Set<String>> USAGE_RECORDS =
      Map.of("/configmaps", Set.of("get", "list", "watch", "create", "update", "delete"));

  static final Map<String, Set<String>> LEADER_ELECTION =
      Map.of("coordination.k8s.io/leases", Set.of("get", "create", "update", "patch"));

  private RbacContract() {}

  /**
   * Flattens rules into "group/resource" → verbs, failing on wildcards and on a pair granted by two
   * rules (which would hide a grant when reading the chart).
   */
  static Map<String, Set<String>> flatten(List<PolicyRule> rules) {
    Map<String, Set<String>> grants = new TreeMap<>();
    for (PolicyRule rule : rules) {
      for (String value : concat(rule.getApiGroups(), rule.getResources(), rule.getVerbs())) {
        if (value.contains("*")) {
          throw new AssertionError("wildcard in RBAC rule " + rule);
        }
      }
      if (rule.getNonResourceURLs() != null && !rule.getNonResourceURLs().isEmpty()) {
        throw new AssertionError("non-resource URL in RBAC rule " + rule);
      }
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          Set<String> previous = grants.put(group + "/" + resource, new TreeSet<>(rule.getVerbs()));
          if (previous != null) {
            throw new AssertionError(group + "/" + resource + " is granted by two rules");
          }
        }
      }
    }
    return grants;
  }

  private static List<String> concat(List<String> a, List<String> b, List<String> c) {
    return java.util.stream.Stream.of(a, b, c)
        .filter(java.util.Objects::nonNull)
        .flatMap(List::stream)
        .toList();
  }
}
