package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.BillingAccountSpec;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.operator.billing.PayerAuthorization.Authorized;
import io.gpupool.operator.billing.PayerAuthorization.Decision;
import io.gpupool.operator.billing.PayerAuthorization.Refused;
import io.gpupool.operator.billing.PayerAuthorization.Unbilled;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PayerAuthorizationTest {
  static final String PAYER_A = "0x976EA74026E726554dB657fA54763abd0C3a0aa9";
  static final String PAYER_B = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955";

  static BillingAccount account(String name, String payer, String... namespaces) {
    BillingAccount a = new BillingAccount();
    a.setMetadata(new ObjectMetaBuilder().withName(name).build());
    a.setSpec(new BillingAccountSpec());
    a.getSpec().payer = payer;
    a.getSpec().namespaces = List.of(namespaces);
    return a;
  }

  static Budget budget(String account, String payer) {
    Budget b = new Budget();
    b.account = account;
    b.payer = payer;
    return b;
  }

  private final BillingAccount teamA = account("team-a", PAYER_A, "team-a");
  private final BillingAccount teamB = account("team-b", PAYER_B, "team-b");
  private final List<BillingAccount> accounts = List.of(teamA, teamB);

  private Decision decide(String ns, Budget budget) {
    return PayerAuthorization.decide(ns, Map.of(), budget, accounts, true);
  }

  @Test
  void aJobNamingAnotherTeamsAccountIsRefusedWithoutItsFigures() {
    Decision d = decide("team-a", budget("team-b", null));
    assertThat(d).isInstanceOf(Refused.class);
    Refused r = (Refused) d;
    assertThat(r.reason()).isEqualTo("PayerNotAuthorized");
    assertThat(r.message())
        .startsWith("namespace team-a may not charge BillingAccount team-b")
        .doesNotContain(PAYER_B)
        .doesNotContain("escrow");
  }

  @Test
  void anAccountThatDoesNotExistReadsLikeOneThatIsNotBound() {
    Refused missing = (Refused) decide("team-a", budget("nobody", null));
    assertThat(missing.message())
        .isEqualTo(
            "namespace team-a may not charge BillingAccount nobody: a platform admin must add the"
                + " namespace to that account's spec.namespaces or namespaceSelector");
  }

  @Test
  void aJobNamingAnotherTeamsPayerAddressIsRefused() {
    Refused r = (Refused) decide("team-a", budget(null, PAYER_B));
    assertThat(r.reason()).isEqualTo("PayerNotAuthorized");
    assertThat(r.message()).contains("is bound to no BillingAccount paying from " + PAYER_B);
  }

  @Test
  void aBoundNamespacePaysFromItsAccountNamedOrByDefault() {
    assertThat(decide("team-a", budget("team-a", null))).isEqualTo(new Authorized(teamA));
    assertThat(decide("team-a", budget(null, PAYER_A.toLowerCase())))
        .isEqualTo(new Authorized(teamA));
    assertThat(decide("team-a", null)).isEqualTo(new Authorized(teamA));
    assertThat(decide("team-a", new Budget())).isEqualTo(new Authorized(teamA));
  }

  @Test
  void anAccountAndAPayerThatDisagreeAreRefused() {
    assertThat(decide("team-a", budget("team-a", PAYER_B))).isInstanceOf(Refused.class);
  }

  @Test
  void noBudgetAndNoDefaultAccountIsBudgetRequiredUnlessUnbilledJobsAreAllowed() {
    Refused r = (Refused) decide("team-c", null);
    assertThat(r.reason()).isEqualTo("BudgetRequired");
    assertThat(r.message())
        .contains("namespace team-c is bound to no BillingAccount")
        .contains("spec.namespaces")
        .contains("spec.budget.account");
    assertThat(PayerAuthorization.decide("team-c", Map.of(), null, accounts, false))
        .isInstanceOf(Unbilled.class);
  }

  @Test
  void aNamespaceBoundToSeveralAccountsMustNameOne() {
    BillingAccount shared = account("shared", PAYER_B, "team-a");
    List<BillingAccount> all = List.of(teamA, shared);
    Refused r = (Refused) PayerAuthorization.decide("team-a", Map.of(), null, all, false);
    assertThat(r.reason()).isEqualTo("BudgetRequired");
    assertThat(PayerAuthorization.decide("team-a", Map.of(), budget("shared", null), all, true))
        .isEqualTo(new Authorized(shared));
  }

  @Test
  void aLabelSelectorBindsMatchingNamespacesOnly() {
    BillingAccount research = account("research", PAYER_B);
    research.getSpec().namespaceSelector =
        new LabelSelectorBuilder()
            .withMatchLabels(Map.of("gpupool.io/billing", "research"))
            .addNewMatchExpression()
            .withKey("env")
            .withOperator("NotIn")
            .withValues("prod")
            .endMatchExpression()
            .build();
    List<BillingAccount> all = List.of(research);
    assertThat(
            PayerAuthorization.decide(
                "lab-1", Map.of("gpupool.io/billing", "research"), null, all, true))
        .isEqualTo(new Authorized(research));
    assertThat(
            PayerAuthorization.decide(
                "lab-2", Map.of("gpupool.io/billing", "research", "env", "prod"), null, all, true))
        .isInstanceOf(Refused.class);
    assertThat(PayerAuthorization.decide("other", Map.of(), null, all, true))
        .isInstanceOf(Refused.class);
  }

  /**
   * The CRD lets a selector expression leave out its operator or key (AcceptedResourcesPropertyTest
   * found it): such an expression binds nothing, where reading it threw on every reconcile.
   */
  @Test
  void aSelectorExpressionWithoutOperatorOrKeyBindsNothing() {
    BillingAccount loose = account("loose", PAYER_B);
    loose.getSpec().namespaceSelector =
        new LabelSelectorBuilder()
            .addNewMatchExpression()
            .withKey("env")
            .endMatchExpression()
            .build();
    assertThat(PayerAuthorization.bound(loose, "any", Map.of("env", "x"))).isFalse();
    loose.getSpec().namespaceSelector =
        new LabelSelectorBuilder()
            .addNewMatchExpression()
            .withOperator("DoesNotExist")
            .endMatchExpression()
            .build();
    assertThat(PayerAuthorization.bound(loose, "any", Map.of())).isFalse();
  }

  @Test
  void anEmptySelectorBindsNothing() {
    BillingAccount open = account("open", PAYER_B);
    open.getSpec().namespaceSelector = new LabelSelectorBuilder().build();
    assertThat(PayerAuthorization.bound(open, "any", Map.of("a", "b"))).isFalse();
  }
}
