package io.gpupool.e2e;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.gpupool.sandbox.api.ApiCall;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares the API calls a component made with the RBAC rules it is given, the way the API server's
 * RBAC authorizer decides: a ClusterRole (bound by a ClusterRoleBinding) grants everywhere, a Role
 * only in its namespace; a rule with {@code resourceNames} grants only requests that name one of
 * them (never list, watch, create or deletecollection); what {@code system:basic-user} grants every
 * authenticated user counts as granted. Reports calls no rule grants, and granted verbs no call
 * used unless an allow-list names them with the reason.
 */
final class RbacComparison {
  /** What the comparison found. */
  record Result(List<ApiCall> ungranted, Set<String> unusedGrants, Map<String, String> excused) {
    boolean clean() {
      return ungranted.isEmpty() && unusedGrants.isEmpty();
    }

    String report() {
      StringBuilder s = new StringBuilder();
      if (!ungranted.isEmpty()) {
        s.append("calls the chart's RBAC does not grant (the operator would get 403):\n");
        ungranted.forEach(c -> s.append("  ").append(c).append('\n'));
      }
      if (!unusedGrants.isEmpty()) {
        s.append(
            "granted but never used by the operator (remove from helm/gpupool/files/rbac.yaml, or"
                + " allow-list with the reason):\n");
        unusedGrants.forEach(g -> s.append("  ").append(g).append('\n'));
      }
      return s.toString();
    }
  }

  /**
   * What Kubernetes' bootstrap ClusterRole {@code system:basic-user} (bound to every authenticated
   * user) grants: asking what one may do. JOSDK asks before leader election. Not the chart's
   * business, so never reported as unused.
   */
  static final List<PolicyRule> SYSTEM_BASIC_USER =
      List.of(
          new PolicyRuleBuilder()
              .withApiGroups("authorization.k8s.io")
              .withResources("selfsubjectaccessreviews", "selfsubjectrulesreviews")
              .withVerbs("create")
              .build(),
          new PolicyRuleBuilder()
              .withApiGroups("authentication.k8s.io")
              .withResources("selfsubjectreviews")
              .withVerbs("create")
              .build());

  private static final Set<String> UNNAMED_VERBS =
      Set.of("list", "watch", "create", "deletecollection");

  private RbacComparison() {}

  /**
   * @param allowedUnused "group/resource verb" (core group as "") → why it is granted though the
   *     run did not use it
   */
  static Result compare(
      List<ApiCall> calls,
      List<PolicyRule> clusterRules,
      List<PolicyRule> roleRules,
      String roleNamespace,
      Map<String, String> allowedUnused) {
    List<ApiCall> ungranted = new ArrayList<>();
    for (ApiCall c : calls) {
      boolean granted =
          clusterRules.stream().anyMatch(r -> grants(r, c))
              || SYSTEM_BASIC_USER.stream().anyMatch(r -> grants(r, c))
              || (roleNamespace.equals(c.namespace())
                  && roleRules.stream().anyMatch(r -> grants(r, c)));
      if (!granted) {
        ungranted.add(c);
      }
    }
    ungranted.sort(java.util.Comparator.comparing(ApiCall::toString));
    Set<String> unused = new TreeSet<>();
    Map<String, String> excused = new TreeMap<>();
    for (PolicyRule rule : clusterRules) {
      unusedOf(rule, calls, null, allowedUnused, unused, excused);
    }
    for (PolicyRule rule : roleRules) {
      unusedOf(rule, calls, roleNamespace, allowedUnused, unused, excused);
    }
    return new Result(ungranted, unused, excused);
  }

  /** "group/resource verb", the key of the allow-list. */
  static String key(String group, String resource, String verb) {
    return group + "/" + resource + " " + verb;
  }

  private static void unusedOf(
      PolicyRule rule,
      List<ApiCall> calls,
      String namespace,
      Map<String, String> allowedUnused,
      Set<String> unused,
      Map<String, String> excused) {
    for (String group : rule.getApiGroups()) {
      for (String resource : rule.getResources()) {
        for (String verb : rule.getVerbs()) {
          boolean used =
              calls.stream()
                  .anyMatch(
                      c ->
                          c.group().equals(group)
                              && c.resource().equals(resource)
                              && c.verb().equals(verb)
                              && (namespace == null || namespace.equals(c.namespace()))
                              && grants(rule, c));
          if (!used) {
            String k = key(group, resource, verb);
            if (allowedUnused.containsKey(k)) {
              excused.put(k, allowedUnused.get(k));
            } else {
              unused.add(
                  k + (namespace == null ? " (ClusterRole)" : " (Role in " + namespace + ")"));
            }
          }
        }
      }
    }
  }

  static boolean grants(PolicyRule rule, ApiCall c) {
    if (!matches(rule.getApiGroups(), c.group())
        || !matches(rule.getResources(), c.resource())
        || !matches(rule.getVerbs(), c.verb())) {
      return false;
    }
    List<String> names = rule.getResourceNames();
    if (names == null || names.isEmpty()) {
      return true;
    }
    return c.name() != null && !UNNAMED_VERBS.contains(c.verb()) && names.contains(c.name());
  }

  private static boolean matches(List<String> allowed, String value) {
    return allowed != null && (allowed.contains(value) || allowed.contains("*"));
  }
}
