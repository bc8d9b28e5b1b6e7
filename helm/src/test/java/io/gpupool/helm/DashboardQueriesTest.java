package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every query of every dashboard panel (and template variable) uses only metrics of the contract,
 * so that a real Prometheus scraping the operator can answer all of them; and the dashboards
 * together show every metric of the contract.
 */
class DashboardQueriesTest {
  private static final Pattern LABEL_VALUES =
      Pattern.compile("^\\s*label_values\\(\\s*(.+?)\\s*,\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)\\s*$");
  private static final Set<String> EXPECTED_TITLES =
      Set.of(
          "gpupool / Pool overview",
          "gpupool / Jobs",
          "gpupool / Billing and providers",
          "gpupool / GPU health (DCGM)",
          "gpupool / Queues");

  /** One PromQL query of a dashboard, with where it comes from. */
  record Query(String dashboard, String where, String expr) {
    @Override
    public String toString() {
      return dashboard + " " + where + ": " + expr;
    }
  }

  static List<Path> dashboards() throws IOException {
    try (Stream<Path> files = Files.list(Chart.DASHBOARDS)) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  /** Every panel query and variable query of one dashboard (label_values reduced to its series). */
  static List<Query> queries(Path dashboard) throws IOException {
    JsonNode root = Chart.JSON.readTree(dashboard.toFile());
    String name = dashboard.getFileName().toString();
    List<Query> queries = new ArrayList<>();
    for (JsonNode panel : panels(root)) {
      for (JsonNode target : panel.path("targets")) {
        queries.add(
            new Query(
                name,
                "panel \"" + panel.path("title").asText() + "\" " + target.path("refId").asText(),
                target.path("expr").asText()));
      }
    }
    for (JsonNode variable : root.path("templating").path("list")) {
      if (variable.path("type").asText().equals("query")) {
        JsonNode query = variable.path("query");
        String text = query.isObject() ? query.path("query").asText() : query.asText();
        Matcher labelValues = LABEL_VALUES.matcher(text);
        queries.add(
            new Query(
                name,
                "variable $" + variable.path("name").asText(),
                labelValues.matches() ? labelValues.group(1) : text));
      }
    }
    return queries;
  }

  static List<JsonNode> panels(JsonNode root) {
    List<JsonNode> panels = new ArrayList<>();
    for (JsonNode panel : root.path("panels")) {
      panels.add(panel);
      panel.path("panels").forEach(panels::add);
    }
    return panels;
  }

  static List<Query> allQueries() throws IOException {
    List<Query> all = new ArrayList<>();
    for (Path dashboard : dashboards()) {
      all.addAll(queries(dashboard));
    }
    return all;
  }

  @Test
  void theDashboardsAreThere() throws IOException {
    Set<String> titles = new HashSet<>();
    Set<String> uids = new HashSet<>();
    for (Path dashboard : dashboards()) {
      JsonNode root = Chart.JSON.readTree(dashboard.toFile());
      titles.add(root.path("title").asText());
      assertThat(uids.add(root.path("uid").asText())).as("unique uid in %s", dashboard).isTrue();
      assertThat(root.path("uid").asText()).hasSizeLessThanOrEqualTo(40);
    }
    assertThat(titles).containsExactlyInAnyOrderElementsOf(EXPECTED_TITLES);
  }

  @ParameterizedTest
  @MethodSource("allQueries")
  void queryUsesOnlyContractMetrics(Query query) {
    Set<String> metrics = MetricsContract.metricsIn(query.expr());
    assertThat(metrics).as("%s selects no metric", query).isNotEmpty();
    assertThat(metrics)
        .as("%s uses metrics outside the contract (docs/observability.md)", query)
        .allMatch(MetricsContract::allowed);
  }

  @Test
  void dashboardsShowEveryContractMetric() throws IOException {
    Set<String> shown = new TreeSet<>();
    for (Query query : allQueries()) {
      MetricsContract.metricsIn(query.expr()).stream()
          .map(MetricsContract::contractName)
          .forEach(shown::add);
    }
    assertThat(shown).containsAll(MetricsContract.all());
  }

  @ParameterizedTest
  @MethodSource("dashboards")
  void panelsQueryTheSelectedDatasourceAndFitTheGrid(Path dashboard) throws IOException {
    JsonNode root = Chart.JSON.readTree(dashboard.toFile());
    JsonNode datasourceVariable = null;
    for (JsonNode variable : root.path("templating").path("list")) {
      if (variable.path("name").asText().equals("datasource")) {
        datasourceVariable = variable;
      } else if (variable.path("type").asText().equals("query")) {
        assertThat(variable.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
      }
    }
    assertThat(datasourceVariable).as("%s has a datasource variable", dashboard).isNotNull();
    assertThat(datasourceVariable.path("type").asText()).isEqualTo("datasource");
    assertThat(datasourceVariable.path("query").asText()).isEqualTo("prometheus");

    Set<Integer> ids = new HashSet<>();
    for (JsonNode panel : panels(root)) {
      String title = panel.path("title").asText();
      assertThat(ids.add(panel.path("id").asInt())).as("unique id of %s", title).isTrue();
      JsonNode grid = panel.path("gridPos");
      assertThat(grid.path("x").asInt() + grid.path("w").asInt())
          .as("%s fits the 24-column grid", title)
          .isBetween(1, 24);
      if (panel.path("type").asText().equals("row")) {
        continue;
      }
      assertThat(title).isNotBlank();
      assertThat(panel.path("description").asText()).as("%s has a description", title).isNotBlank();
      assertThat(panel.path("datasource").path("uid").asText())
          .as("%s uses the $datasource variable", title)
          .isEqualTo("${datasource}");
      assertThat(panel.path("targets").size()).as("%s has queries", title).isPositive();
      Set<String> refIds = new HashSet<>();
      for (JsonNode target : panel.path("targets")) {
        assertThat(refIds.add(target.path("refId").asText()))
            .as("unique refId in %s", title)
            .isTrue();
        assertThat(target.path("expr").asText()).as("query of %s", title).isNotBlank();
        assertThat(target.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
      }
    }
  }

  @Test
  void readerFindsMetricsAndIgnoresFunctionsLabelsAndKeywords() {
    assertThat(
            MetricsContract.metricsIn(
                "histogram_quantile(0.95, sum by (le, kind) (rate(gpupool_job_queue_wait_seconds_bucket{kind=~\"$kind\"}[$__rate_interval])))"))
        .containsExactly("gpupool_job_queue_wait_seconds_bucket");
    assertThat(
            MetricsContract.metricsIn(
                "sum(a_total{x=\"y z\"}) / on(provider) group_left(model) b offset 5m > bool 1e3 and inf"))
        .containsExactly("a_total", "b");
    assertThat(MetricsContract.metricsIn("count(DCGM_FI_DEV_XID_ERRORS != 0) or vector(0)"))
        .containsExactly("DCGM_FI_DEV_XID_ERRORS");
    assertThat(MetricsContract.metricsIn("{__name__=\"up\", job=\"x\"}")).containsExactly("up");
    assertThat(MetricsContract.allowed("gpupool_reconcile_duration_seconds_count")).isTrue();
    assertThat(MetricsContract.allowed("gpupool_reconcile_duration_seconds")).isFalse();
    assertThat(MetricsContract.allowed("gpupool_pool_gpus_total")).isFalse();
  }
}
