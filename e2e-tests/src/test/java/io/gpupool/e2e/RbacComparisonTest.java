package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.gpupool.sandbox.api.ApiCall;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RbacComparisonTest {
  private static PolicyRule rule(String group, String resource, String... verbs) {
    return new PolicyRuleBuilder()
        .withApiGroups(group)
        .withResources(resource)
        .withVerbs(verbs)
        .build();
  }

  private static ApiCall call(String group, String resource, String verb, String ns, String name) {
    return new ApiCall("op", group, resource, verb, ns, name);
  }

  @Test
  void aClusterRoleGrantsEverywhereARoleOnlyInItsNamespace() {
    List<PolicyRule> cluster = List.of(rule("", "pods", "list", "watch"));
    List<PolicyRule> role = List.of(rule("", "configmaps", "get", "create"));
    List<ApiCall> calls =
        List.of(
            call("", "pods", "list", null, null),
            call("", "pods", "watch", null, null),
            call("", "configmaps", "create", "gpupool", null),
            call("", "configmaps", "get", "gpupool", "usage-1"),
            call("", "configmaps", "get", "default", "usage-2"),
            call("", "pods", "delete", "ml", "p-0"));
    RbacComparison.Result r = RbacComparison.compare(calls, cluster, role, "gpupool", Map.of());
    assertThat(r.ungranted())
        .containsExactlyInAnyOrder(
            call("", "configmaps", "get", "default", "usage-2"),
            call("", "pods", "delete", "ml", "p-0"));
    assertThat(r.unusedGrants()).isEmpty();
    assertThat(r.clean()).isFalse();
  }

  @Test
  void unusedGrantsAreReportedUnlessAllowListed() {
    List<PolicyRule> cluster =
        List.of(rule("gpupool.io", "trainingjobs", "get", "patch", "update"));
    List<PolicyRule> role = List.of(rule("coordination.k8s.io", "leases", "get"));
    List<ApiCall> calls = List.of(call("gpupool.io", "trainingjobs", "get", "ml", "t"));
    RbacComparison.Result r =
        RbacComparison.compare(
            calls,
            cluster,
            role,
            "gpupool",
            Map.of("coordination.k8s.io/leases get", "leader election"));
    assertThat(r.ungranted()).isEmpty();
    assertThat(r.unusedGrants())
        .containsExactly(
            "gpupool.io/trainingjobs patch (ClusterRole)",
            "gpupool.io/trainingjobs update (ClusterRole)");
    assertThat(r.excused()).containsEntry("coordination.k8s.io/leases get", "leader election");
    assertThat(r.report()).contains("granted but never used");
  }

  @Test
  void resourceNamesGrantOnlyNamedRequests() {
    PolicyRule secret =
        new PolicyRuleBuilder(rule("", "secrets", "get", "list")).withResourceNames("key").build();
    assertThat(RbacComparison.grants(secret, call("", "secrets", "get", "ns", "key"))).isTrue();
    assertThat(RbacComparison.grants(secret, call("", "secrets", "get", "ns", "other"))).isFalse();
    assertThat(RbacComparison.grants(secret, call("", "secrets", "list", "ns", null))).isFalse();
    assertThat(RbacComparison.grants(rule("*", "*", "*"), call("x", "y", "z", null, null)))
        .isTrue();
  }

  @Test
  void selfSubjectReviewsAreGrantedToEveryAuthenticatedUser() {
    ApiCall review = call("authorization.k8s.io", "selfsubjectaccessreviews", "create", null, null);
    RbacComparison.Result r =
        RbacComparison.compare(List.of(review), List.of(), List.of(), "ns", Map.of());
    assertThat(r.clean()).isTrue();
  }
}
