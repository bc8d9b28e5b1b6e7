package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tenants' roles and the admission policies of docs/billing.md, "Who can charge whom". */
class TenancyChartTest {
  private static final String NS = "gpupool-system";

  private static ClusterRole role(Chart.Rendered rendered, String suffix) {
    return rendered.all(ClusterRole.class).stream()
        .filter(r -> r.getMetadata().getName().endsWith(suffix))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void tenantsEditAndViewJobsThroughAggregatedRolesButNeverBillingAccounts() {
    Chart.Rendered rendered = Chart.render(NS, Map.of());
    ClusterRole edit = role(rendered, "-tenant-edit");
    assertThat(edit.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-edit", "true")
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-admin", "true");
    assertThat(edit.getRules())
        .anySatisfy(
            r -> {
              assertThat(r.getResources()).containsExactly("trainingjobs", "inferencejobs");
              assertThat(r.getVerbs()).contains("create", "delete", "patch");
            });
    ClusterRole view = role(rendered, "-tenant-view");
    assertThat(view.getMetadata().getLabels())
        .containsEntry("rbac.authorization.k8s.io/aggregate-to-view", "true");
    assertThat(view.getRules()).flatMap(PolicyRule::getVerbs).containsOnly("get", "list", "watch");
    for (ClusterRole tenant : List.of(edit, view)) {
      assertThat(tenant.getRules())
          .flatMap(PolicyRule::getResources)
          .noneMatch(r -> r.startsWith("billingaccounts") || r.startsWith("gpuproviders"));
    }
  }

  @Test
  void accountBindingPolicyIsOnByDefaultAndReadsEveryAccountAsAParam() {
    Chart.Rendered rendered = Chart.render(NS, Map.of());
    List<HasMetadata> policies = rendered.ofKind("ValidatingAdmissionPolicy");
    assertThat(policies).singleElement();
    String yaml = Chart.template(NS, Map.of());
    assertThat(yaml)
        .contains("kind: BillingAccount")
        .contains("resources: [\"trainingjobs\", \"inferencejobs\"]")
        .contains("!variables.named || !variables.judged || variables.listed || variables.selected")
        .contains("parameterNotFoundAction: Allow");
    assertThat(rendered.ofKind("ValidatingAdmissionPolicyBinding")).singleElement();

    Chart.Rendered off =
        Chart.render(NS, Map.of("tenancy.admissionPolicies.accountBinding", false));
    assertThat(off.ofKind("ValidatingAdmissionPolicy")).isEmpty();
  }

  @Test
  void operatorPodsPolicyNamesTheOperatorsServiceAccountWhenEnabled() {
    String yaml =
        Chart.template(NS, Map.of("tenancy.admissionPolicies.operatorOwnsGpupoolPods", true));
    assertThat(yaml)
        .contains("k.startsWith('gpupool.io/')")
        .contains("request.userInfo.username == 'system:serviceaccount:" + NS + ":gpupool'");
    assertThat(Chart.render(NS, Map.of()).resources())
        .noneMatch(r -> r.getMetadata().getName().endsWith("-operator-pods"));
  }

  @Test
  void requireBudgetReachesTheOperatorWithBilling() {
    String yaml = Chart.template("ml-platform", Map.of("tenancy.requireBudget", false));
    assertThat(Chart.render("ml-platform", Chart.productionValues()).resources()).isNotEmpty();
    assertThat(yaml).doesNotContain("GPUPOOL_BILLING_REQUIRE_BUDGET"); // billing off: not set
  }
}
