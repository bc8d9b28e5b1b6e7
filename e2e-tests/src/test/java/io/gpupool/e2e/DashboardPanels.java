package io.gpupool.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Every query of the chart's Grafana dashboards (helm/gpupool/dashboards), panel by panel, with
 * Grafana's template variables filled in as Grafana does with "All" selected.
 */
final class DashboardPanels {
  static final Path DIR = SandboxCluster.REPO.resolve("helm/gpupool/dashboards");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Za-z0-9_]+)}?");
  private static final Pattern LABEL_VALUES =
      Pattern.compile("^\\s*label_values\\(\\s*(.+?)\\s*,\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)\\s*$");

  /** One query: a panel target ({@code refId}) or a template variable's query. */
  record Query(String dashboard, String panel, String refId, String expr) {
    @Override
    public String toString() {
      return dashboard + " / " + panel + " [" + refId + "]: " + expr;
    }
  }

  private DashboardPanels() {}

  /** Every panel target and variable query of every dashboard, in file order. */
  static List<Query> all() {
    List<Query> queries = new ArrayList<>();
    try (Stream<Path> files = Files.list(DIR)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        JsonNode root = JSON.readTree(file.toFile());
        String title = root.path("title").asText();
        for (JsonNode panel : panels(root)) {
          for (JsonNode target : panel.path("targets")) {
            queries.add(
                new Query(
                    title,
                    panel.path("title").asText(),
                    target.path("refId").asText(),
                    target.path("expr").asText()));
          }
        }
        for (JsonNode variable : root.path("templating").path("list")) {
          if (variable.path("type").asText().equals("query")) {
            JsonNode q = variable.path("query");
            String text = q.isObject() ? q.path("query").asText() : q.asText();
            Matcher m = LABEL_VALUES.matcher(text);
            queries.add(
                new Query(
                    title,
                    "variable $" + variable.path("name").asText(),
                    "var",
                    m.matches() ? m.group(1) : text));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dashboards in " + DIR, e);
    }
    return queries;
  }

  private static List<JsonNode> panels(JsonNode root) {
    List<JsonNode> panels = new ArrayList<>();
    for (JsonNode panel : root.path("panels")) {
      if (!panel.path("type").asText().equals("row")) {
        panels.add(panel);
      }
      panel.path("panels").forEach(panels::add);
    }
    return panels;
  }

  /**
   * Fills Grafana's variables: every dashboard variable with "All" ({@code .*}), {@code
   * $__rate_interval} and {@code $__interval} as Grafana derives them from the step and scrape
   * interval, {@code $__range} as the whole time range.
   */
  static String substitute(String expr, long rangeSeconds, long stepSeconds, long scrapeSeconds) {
    long rateInterval = Math.max(stepSeconds + scrapeSeconds, 4 * scrapeSeconds);
    Matcher m = VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value =
          switch (m.group(1)) {
            case "__rate_interval" -> rateInterval + "s";
            case "__interval" -> stepSeconds + "s";
            case "__range" -> rangeSeconds + "s";
            case "__range_s" -> Long.toString(rangeSeconds);
            default -> ".*";
          };
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }
}
