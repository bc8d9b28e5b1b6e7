package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Type-checks the dashboards offline with @grafana/schema and tsc (helm/dashboards-check): the
 * dashboard model, each panel's options and custom field config for its panel type, and each query.
 */
class DashboardTypeCheckIT {
  private static final Path CHECK_DIR = Chart.MODULE.resolve("dashboards-check");
  private static Path node;

  @BeforeAll
  static void requireTools() {
    node =
        Tool.require(
            "node", "apt-get install nodejs npm (the Maven build then installs the type checker)");
    for (String module : new String[] {"typescript/bin/tsc", "@grafana/schema/package.json"}) {
      if (!Files.exists(CHECK_DIR.resolve("node_modules").resolve(module))) {
        throw new AssertionError(
            "helm/dashboards-check/node_modules/"
                + module
                + " is missing: the Maven build installs it (./mvnw -q -pl helm"
                + " generate-test-resources; needs apt-get install nodejs npm)");
      }
    }
  }

  private static Tool.Result check(Path dashboards) {
    Tool.Result generated =
        Tool.run(CHECK_DIR, 60, node.toString(), "generate.mjs", dashboards.toString());
    if (generated.exitCode() != 0) {
      return generated;
    }
    return Tool.run(
        CHECK_DIR,
        180,
        node.toString(),
        "node_modules/typescript/bin/tsc",
        "--noEmit",
        "--pretty",
        "false",
        "-p",
        "tsconfig.json");
  }

  @Test
  void dashboardsSatisfyTheGrafanaSchema(@TempDir Path broken) throws IOException {
    // First a dashboard with deliberate mistakes, to prove the check catches them...
    ObjectNode dashboard =
        (ObjectNode) Chart.JSON.readTree(Chart.DASHBOARDS.resolve("jobs.json").toFile());
    dashboard.put("graphTooltip", "shared");
    ObjectNode stat =
        (ObjectNode)
            DashboardQueriesTest.panels(dashboard).stream()
                .filter(p -> p.path("type").asText().equals("stat"))
                .findFirst()
                .orElseThrow();
    ((ObjectNode) stat.path("options")).put("colorMode", "rainbow");
    ((ObjectNode) stat.path("targets").get(0)).remove("refId");
    Chart.JSON.writeValue(broken.resolve("jobs.json").toFile(), dashboard);
    Tool.Result failed = check(broken);
    assertThat(failed.exitCode()).as(failed.output()).isNotZero();
    assertThat(failed.output())
        .contains("DashboardCursorSync")
        .contains("\"rainbow\"")
        .contains("refId");

    // ...then the real ones.
    Tool.Result result = check(Chart.DASHBOARDS);
    assertThat(result.exitCode()).as("tsc on the dashboards:%n%s", result.output()).isZero();
    assertThat(result.output()).doesNotContain("error TS");
  }
}
