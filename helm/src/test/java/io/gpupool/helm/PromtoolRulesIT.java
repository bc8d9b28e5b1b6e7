package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The alert rules pass `promtool check rules` and the unit tests in helm/rules-tests. */
class PromtoolRulesIT {
  private static Path promtool;

  @BeforeAll
  static void requirePromtool() {
    promtool =
        Tool.require(
            "promtool",
            "apt-get install -y --no-install-recommends prometheus (Debian's package brings promtool)");
  }

  @Test
  void standaloneRulesFileIsValid() {
    Tool.Result result =
        Tool.run(Chart.MODULE, 60, promtool.toString(), "check", "rules", Chart.RULES.toString());
    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(result.output()).contains("SUCCESS");
  }

  @Test
  void renderedPrometheusRuleIsValid(@TempDir Path dir) throws IOException {
    GenericKubernetesResource rule =
        (GenericKubernetesResource)
            Chart.render("monitoring", Map.of("metrics.prometheusRule.enabled", true))
                .ofKind("PrometheusRule")
                .get(0);
    Path file = dir.resolve("rendered-rules.yaml");
    Chart.YAML.writeValue(file.toFile(), rule.getAdditionalProperties().get("spec"));
    Tool.Result result = Tool.run(dir, 60, promtool.toString(), "check", "rules", file.toString());
    assertThat(result.exitCode()).as(result.output()).isZero();
  }

  @Test
  void alertUnitTestsPass() throws IOException {
    List<String> tests;
    try (Stream<Path> files = Files.list(Chart.RULES_TESTS)) {
      tests =
          files
              .map(p -> p.getFileName().toString())
              .filter(n -> n.endsWith(".yaml"))
              .sorted()
              .toList();
    }
    assertThat(tests).isNotEmpty();
    String[] command =
        Stream.concat(Stream.of(promtool.toString(), "test", "rules"), tests.stream())
            .toArray(String[]::new);
    Tool.Result result = Tool.run(Chart.RULES_TESTS, 120, command);
    assertThat(result.exitCode()).as(result.output()).isZero();
    assertThat(result.output()).contains("SUCCESS").doesNotContain("FAILED");
  }

  @Test
  void aWrongExpectationFailsTheUnitTests(@TempDir Path dir) throws IOException {
    // Proves the unit tests can fail: the same rules, expecting the operator-down alert while up.
    Path test = dir.resolve("wrong-test.yaml");
    Files.writeString(
        test,
        """
        rule_files:
          - %s
        evaluation_interval: 1m
        tests:
          - interval: 1m
            input_series:
              - series: 'up{job="gpupool-operator",instance="10.0.0.1:8080"}'
                values: '1x20'
            alert_rule_test:
              - eval_time: 10m
                alertname: GpupoolOperatorDown
                exp_alerts:
                  - exp_labels: {severity: critical}
        """
            .formatted(Chart.RULES.toAbsolutePath()));
    Tool.Result result = Tool.run(dir, 60, promtool.toString(), "test", "rules", test.toString());
    assertThat(result.exitCode()).as(result.output()).isNotZero();
    assertThat(result.output()).contains("FAILED");
  }
}
