package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs Debian's Prometheus against a synthetic exposition of every contract metric (what the
 * operator and dcgm-exporter are expected to serve) and executes every dashboard query, every
 * variable query and every alert expression: each must be valid PromQL, and each dashboard query
 * must return data. The sandbox test in issue #7 does the same against the real operator.
 */
class PrometheusQueriesIT {
  private static final Pattern GRAFANA_VARIABLE = Pattern.compile("\\$\\{?([A-Za-z0-9_]+)}?");
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final AtomicInteger SCRAPES = new AtomicInteger();

  @TempDir static Path dir;
  private static HttpServer exporter;
  private static Process prometheus;
  private static String prometheusUrl;

  @BeforeAll
  static void startPrometheus() throws Exception {
    Path binary =
        Tool.require(
            "prometheus", "apt-get install -y --no-install-recommends prometheus (Debian package)");
    exporter = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    exporter.createContext(
        "/q/metrics", e -> respond(e, operatorExposition(SCRAPES.incrementAndGet())));
    exporter.createContext("/metrics", e -> respond(e, dcgmExposition()));
    exporter.start();
    String target = "127.0.0.1:" + exporter.getAddress().getPort();

    Path config = dir.resolve("prometheus.yml");
    Files.writeString(
        config,
        """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        rule_files:
          - %s
        scrape_configs:
          - job_name: gpupool-operator
            honor_labels: true
            metrics_path: /q/metrics
            static_configs:
              - targets: ['%s']
          - job_name: dcgm-exporter
            metrics_path: /metrics
            static_configs:
              - targets: ['%s']
        """
            .formatted(Chart.RULES.toAbsolutePath(), target, target));
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    prometheusUrl = "http://127.0.0.1:" + port;
    prometheus =
        new ProcessBuilder(
                binary.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("prometheus.log").toFile())
            .start();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (SCRAPES.get() < 8) {
      if (!prometheus.isAlive()) {
        throw new AssertionError(
            "prometheus exited: " + Files.readString(dir.resolve("prometheus.log")));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("prometheus did not scrape 8 times in 30s");
      }
      Thread.sleep(250);
    }
    Thread.sleep(1500); // let the last scrape land in the head block
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (prometheus != null) {
      prometheus.destroy();
      if (!prometheus.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        prometheus.destroyForcibly();
      }
    }
    if (exporter != null) {
      exporter.stop(0);
    }
  }

  @Test
  void everyDashboardQueryIsValidAndReturnsData() throws Exception {
    List<String> problems = new ArrayList<>();
    for (DashboardQueriesTest.Query query : DashboardQueriesTest.allQueries()) {
      String expr = substitute(query.expr());
      JsonNode answer = query(expr);
      if (!"success".equals(answer.path("status").asText())) {
        problems.add(query + " -> " + answer.path("error").asText());
      } else if (answer.path("data").path("result").isEmpty()) {
        problems.add(query + " -> no data");
      }
    }
    assertThat(problems).as("dashboard queries that fail or return nothing").isEmpty();
  }

  @Test
  void everyAlertExpressionIsValidAndTheRulesLoad() throws Exception {
    for (Map<String, Object> rule : AlertRulesContractTest.rules()) {
      JsonNode answer = query(String.valueOf(rule.get("expr")));
      assertThat(answer.path("status").asText())
          .as("%s: %s", rule.get("alert"), answer.path("error").asText())
          .isEqualTo("success");
    }
    JsonNode rules = get("/api/v1/rules");
    int loaded = 0;
    for (JsonNode group : rules.path("data").path("groups")) {
      for (JsonNode rule : group.path("rules")) {
        assertThat(rule.path("health").asText()).as(rule.path("name").asText()).isNotEqualTo("err");
        loaded++;
      }
    }
    assertThat(loaded).isEqualTo(AlertRulesContractTest.rules().size());
  }

  @Test
  void harnessTellsBrokenAndEmptyQueriesApart() throws Exception {
    assertThat(query("sum by (kind (gpupool_jobs)").path("status").asText()).isEqualTo("error");
    assertThat(query("gpupool_no_such_metric").path("data").path("result")).isEmpty();
    assertThat(
            query(
                    substitute(
                        "sum(rate(gpupool_job_recoveries_total{kind=~\"$kind\"}[$__rate_interval]))"))
                .path("data")
                .path("result"))
        .isNotEmpty();
  }

  /** Grafana's variables as Grafana would fill them with "All" selected. */
  private static String substitute(String expr) {
    Matcher m = GRAFANA_VARIABLE.matcher(expr);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value =
          switch (m.group(1)) {
            case "__rate_interval" -> "5s";
            case "__range", "__range_s" -> "1m";
            case "__interval" -> "1s";
            default -> ".*";
          };
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static JsonNode query(String expr) throws IOException, InterruptedException {
    return get("/api/v1/query?query=" + URLEncoder.encode(expr, StandardCharsets.UTF_8));
  }

  private static JsonNode get(String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(prometheusUrl + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return Chart.JSON.readTree(response.body());
  }

  private static void respond(com.sun.net.httpserver.HttpExchange exchange, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    exchange.sendResponseHeaders(200, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** The operator's exposition after {@code n} scrapes: counters and histograms grow with n. */
  static String operatorExposition(int n) {
    StringBuilder s = new StringBuilder();
    for (String state : List.of("free", "allocated", "unhealthy")) {
      line(
          s,
          "gpupool_pool_gpus",
          "model=\"NVIDIA-A100-SXM4-80GB\",region=\"eu-west\",provider=\"acme\",state=\""
              + state
              + "\"",
          4);
      line(
          s,
          "gpupool_pool_gpus",
          "model=\"NVIDIA-GeForce-RTX-4090\",region=\"us-east\",provider=\"garage\",state=\""
              + state
              + "\"",
          2);
    }
    for (String state : List.of("ready", "notready", "unreadable")) {
      line(
          s,
          "gpupool_pool_nodes",
          "region=\"eu-west\",provider=\"acme\",state=\"" + state + "\"",
          1);
    }
    line(s, "gpupool_provider_reliability_score", "provider=\"acme\"", 0.97);
    line(s, "gpupool_provider_reliability_score", "provider=\"garage\"", 0.8);
    for (String phase :
        List.of("Pending", "Scheduled", "Running", "Succeeded", "Failed", "Suspended")) {
      line(s, "gpupool_jobs", "kind=\"TrainingJob\",phase=\"" + phase + "\"", 1);
    }
    for (String phase :
        List.of("Pending", "Deploying", "Serving", "Degraded", "Failed", "Suspended")) {
      line(s, "gpupool_jobs", "kind=\"InferenceJob\",phase=\"" + phase + "\"", 1);
    }
    for (String kind : List.of("TrainingJob", "InferenceJob")) {
      histogram(s, "gpupool_job_queue_wait_seconds", "kind=\"" + kind + "\"", n, 12.0);
      histogram(
          s,
          "gpupool_scheduling_latency_seconds",
          "kind=\"" + kind + "\",result=\"placed\"",
          n,
          0.02);
      histogram(
          s,
          "gpupool_scheduling_latency_seconds",
          "kind=\"" + kind + "\",result=\"unschedulable\"",
          n,
          0.01);
      line(s, "gpupool_job_restarts_total", "kind=\"" + kind + "\",reason=\"NodeLost\"", n);
      line(s, "gpupool_job_recoveries_total", "kind=\"" + kind + "\"", n);
    }
    line(
        s,
        "gpupool_job_estimated_throughput",
        "kind=\"TrainingJob\",namespace=\"ml\",job=\"pretrain-13b\"",
        1840.5);
    for (String provider : List.of("acme", "garage")) {
      line(s, "gpupool_metered_gpu_seconds_total", "provider=\"" + provider + "\"", 8.0 * n);
      line(s, "gpupool_metered_cost_total", "provider=\"" + provider + "\"", 0.02 * n);
      line(s, "gpupool_settled_amount_total", "provider=\"" + provider + "\"", 0.015 * n);
    }
    line(s, "gpupool_settlement_backlog_pairs", "", 3);
    line(s, "gpupool_settlement_pairs_set_aside", "", 0);
    line(s, "gpupool_settlement_pairs_held_unregistered", "", 1);
    line(s, "gpupool_settlement_unexpected_failures_total", "", 0);
    for (String outcome : List.of("passed", "wrong_result", "too_slow")) {
      line(s, "gpupool_challenges_total", "provider=\"acme\",outcome=\"" + outcome + "\"", n);
    }
    line(s, "gpupool_quarantined_nodes", "provider=\"garage\"", 1);
    for (String kind : List.of("training", "inference")) {
      for (String outcome : List.of("verified", "provider_at_fault", "inconclusive")) {
        line(
            s,
            "gpupool_verification_intervals_total",
            "kind=\"" + kind + "\",outcome=\"" + outcome + "\"",
            n);
      }
      line(s, "gpupool_verification_disputes_total", "kind=\"" + kind + "\",outcome=\"opened\"", n);
      line(s, "gpupool_verification_gpu_seconds_total", "kind=\"" + kind + "\"", 0.8 * n);
    }
    line(s, "gpupool_settlement_oldest_unconfirmed_seconds", "", 12.5);
    line(s, "gpupool_settlement_backlog_amount", "", 0.4);
    for (String result : List.of("success", "reverted", "failed")) {
      line(s, "gpupool_settlement_transactions_total", "result=\"" + result + "\"", n);
    }
    histogram(s, "gpupool_settlement_transaction_duration_seconds", "", n, 2.5);
    line(s, "gpupool_chain_rpc_errors_total", "operation=\"sendTransaction\"", n);
    line(
        s, "gpupool_escrow_balance", "payer=\"0x70997970C51812dc3A010C7d01b50e0d17dc79C8\"", 125.0);
    for (String controller : List.of("trainingjob", "inferencejob", "gpuprovider")) {
      histogram(
          s,
          "gpupool_reconcile_duration_seconds",
          "controller=\"" + controller + "\"",
          10 * n,
          0.05);
      line(s, "gpupool_reconcile_errors_total", "controller=\"" + controller + "\"", n);
    }
    for (String queue : List.of("team-a", "team-b")) {
      String q = "queue=\"" + queue + "\"";
      line(s, "gpupool_queue_pending_workloads", q, 3);
      line(s, "gpupool_queue_admitted_workloads", q, 2);
      line(s, "gpupool_queue_gpus_in_use", q + ",flavor=\"a100\"", 8);
      line(s, "gpupool_queue_gpus_borrowed", q + ",flavor=\"a100\"", 2);
      line(s, "gpupool_queue_oldest_pending_created_seconds", q, 1.7e9);
      line(s, "gpupool_queue_admissions_total", q, n);
      line(s, "gpupool_queue_preemptions_total", q + ",reason=\"IN_QUEUE_PRIORITY\"", n);
      histogram(s, "gpupool_queue_admission_wait_seconds", q, n, 30.0);
    }
    histogram(s, "gpupool_queue_admission_cycle_seconds", "", n, 0.002);
    line(s, "gpupool_operator_leader", "", 1);
    for (String job : List.of("llama-70b-chat", "phi-3b-shared")) {
      // The inference series carry the job's name in `job` (scraped with honor_labels).
      String j = "namespace=\"default\",job=\"" + job + "\"";
      line(s, "gpupool_inference_replicas_desired", j, 2);
      line(s, "gpupool_inference_replicas_ready", j, 1);
      line(s, "gpupool_inference_inflight_requests", j, 20);
      line(s, "gpupool_inference_inflight_requests_per_replica", j, 20);
      line(s, "gpupool_inference_inflight_requests_target", j, 16);
      line(s, "gpupool_inference_scale_events_total", j + ",direction=\"up\"", n);
      line(s, "gpupool_inference_scale_events_total", j + ",direction=\"down\"", 0);
      line(s, "gpupool_inference_cache_hits_total", j, n);
      line(s, "gpupool_inference_cache_misses_total", j, 1);
    }
    return s.toString();
  }

  /** dcgm-exporter's exposition for two GPUs, one of them with an XID error. */
  static String dcgmExposition() {
    StringBuilder s = new StringBuilder();
    for (int gpu = 0; gpu < 2; gpu++) {
      String labels =
          "gpu=\"%d\",UUID=\"GPU-%d\",modelName=\"NVIDIA A100-SXM4-80GB\",Hostname=\"node-a\",namespace=\"ml\",pod=\"pretrain-13b-0\""
              .formatted(gpu, gpu);
      line(s, "DCGM_FI_DEV_GPU_UTIL", labels, 87);
      line(s, "DCGM_FI_DEV_FB_USED", labels, 61234);
      line(s, "DCGM_FI_DEV_FB_FREE", labels, 20686);
      line(s, "DCGM_FI_DEV_GPU_TEMP", labels, 71);
      line(s, "DCGM_FI_DEV_POWER_USAGE", labels, 312.5);
      line(s, "DCGM_FI_DEV_XID_ERRORS", labels, gpu == 0 ? 0 : 79);
      line(s, "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", labels, 0.42);
    }
    return s.toString();
  }

  private static void line(StringBuilder s, String name, String labels, double value) {
    s.append(name);
    if (!labels.isEmpty()) {
      s.append('{').append(labels).append('}');
    }
    s.append(' ').append(value).append('\n');
  }

  private static void histogram(
      StringBuilder s, String name, String labels, int count, double typical) {
    String sep = labels.isEmpty() ? "" : labels + ",";
    double[] bounds = {typical / 10, typical, typical * 10};
    int[] cumulative = {count / 4, count * 3 / 4, count};
    for (int i = 0; i < bounds.length; i++) {
      line(s, name + "_bucket", sep + "le=\"" + bounds[i] + "\"", cumulative[i]);
    }
    line(s, name + "_bucket", sep + "le=\"+Inf\"", count);
    line(s, name + "_count", labels, count);
    line(s, name + "_sum", labels, count * typical);
  }
}
