package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The alert rules file: the agreed alerts exist, are documented and use only contract metrics. */
class AlertRulesContractTest {

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> rules() {
    List<Map<String, Object>> rules = new ArrayList<>();
    for (Map<String, Object> group :
        (List<Map<String, Object>>) Chart.readYaml(Chart.RULES).get("groups")) {
      rules.addAll((List<Map<String, Object>>) group.get("rules"));
    }
    return rules;
  }

  @Test
  void theAgreedAlertsExist() {
    assertThat(rules())
        .extracting(r -> r.get("alert"))
        .contains(
            "GpupoolOperatorDown",
            "GpupoolReconcileErrors",
            "GpupoolJobsPendingTooLong",
            "GpupoolSettlementBacklogGrowing",
            "GpupoolChainRpcUnreachable",
            "GpupoolProviderReliabilityDropping",
            "GpupoolProviderFailingChallenges",
            "GpupoolVerificationFoundFraud",
            "GpupoolReconcileSlow",
            "GpupoolOperatorNoLeader",
            "GpupoolOperatorSeveralLeaders",
            "GpupoolOperatorLeaderChangingOften",
            "GpupoolInferenceNoReadyReplica",
            "GpupoolInferenceReplicasBelowDesired",
            "GpupoolInferenceOverloadedAtMax")
        .doesNotHaveDuplicates();
  }

  @Test
  @SuppressWarnings("unchecked")
  void everyAlertHasSeveritySummaryAndDescriptionAndUsesContractMetrics() {
    for (Map<String, Object> rule : rules()) {
      String name = String.valueOf(rule.get("alert"));
      assertThat((Map<String, Object>) rule.get("labels"))
          .as(name)
          .containsKey("severity")
          .extractingByKey("severity")
          .isIn("warning", "critical");
      assertThat((Map<String, Object>) rule.get("annotations"))
          .as(name)
          .containsKeys("summary", "description");
      assertThat(String.valueOf(rule.get("for"))).as(name).matches("[0-9]+[smh]");
      assertThat(MetricsContract.metricsIn(String.valueOf(rule.get("expr"))))
          .as("%s uses contract metrics only", name)
          .isNotEmpty()
          .allMatch(MetricsContract::allowed);
    }
  }
}
