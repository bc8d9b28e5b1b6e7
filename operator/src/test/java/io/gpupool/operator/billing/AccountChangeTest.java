package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gpupool.api.v1alpha1.BillingAccount;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * Which BillingAccount updates wake every job: a change of who may charge whom (the spec) or of a
 * period cap being reached — not the operator's own writes of the account's spend figures, which
 * arrive as a new copy with an equal spec (the spec class has no equals of its own).
 */
class AccountChangeTest {
  private static final KubernetesSerialization JSON = new KubernetesSerialization();
  private static final Instant NOW = Instant.parse("2026-12-06T08:00:00Z");

  private static BillingAccount account(String spec, String status) {
    return JSON.unmarshal(
        "{\"apiVersion\":\"gpupool.io/v1alpha1\",\"kind\":\"BillingAccount\","
            + "\"metadata\":{\"name\":\"lab\"},\"spec\":"
            + spec
            + ",\"status\":"
            + status
            + "}",
        BillingAccount.class);
  }

  private static final String SPEC =
      "{\"payer\":\"0x00000000000000000000000000000000000000aa\",\"namespaces\":[\"ml\"],"
          + "\"limits\":{\"maxCostPerPeriod\":\"100\"}}";

  @Test
  void aStatusWriteWithTheSameSpecWakesNobody() {
    BillingAccount before = account(SPEC, "{\"spentThisPeriod\":\"1\"}");
    BillingAccount after = account(SPEC, "{\"spentThisPeriod\":\"2\"}");
    assertThat(BillingAccounts.whoMayChargeWhomChanged(before, after, NOW)).isFalse();
  }

  @Test
  void aSpecChangeWakesTheJobs() {
    BillingAccount before = account(SPEC, "{}");
    BillingAccount after = account(SPEC.replace("[\"ml\"]", "[\"ml\",\"research\"]"), "{}");
    assertThat(BillingAccounts.whoMayChargeWhomChanged(before, after, NOW)).isTrue();
  }

  @Test
  void spendReachingThePeriodCapWakesTheJobs() {
    String start = ",\"periodStart\":\"2026-12-06T00:00:00Z\"}";
    BillingAccount before = account(SPEC, "{\"spentThisPeriod\":\"50\"" + start);
    BillingAccount after = account(SPEC, "{\"spentThisPeriod\":\"100\"" + start);
    assertThat(BillingAccounts.whoMayChargeWhomChanged(before, after, NOW)).isTrue();
  }
}
