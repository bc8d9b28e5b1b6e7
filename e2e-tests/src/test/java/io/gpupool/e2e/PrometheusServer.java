package io.gpupool.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
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
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Prometheus ({@code /usr/bin/prometheus}) on 127.0.0.1 with a generated config, scraping
 * the given targets every second; PromQL through its HTTP API.
 */
final class PrometheusServer implements AutoCloseable {
  /** One scrape job; {@code bearerToken} (or null) is presented as Prometheus's credentials. */
  record Target(
      String job, String hostPort, String metricsPath, boolean honorLabels, String bearerToken) {
    Target(String job, String hostPort, String metricsPath, boolean honorLabels) {
      this(job, hostPort, metricsPath, honorLabels, null);
    }
  }

  static final Duration SCRAPE_INTERVAL = Duration.ofSeconds(1);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final Process process;
  private final String url;
  private final Path log;

  private PrometheusServer(Process process, String url, Path log) {
    this.process = process;
    this.url = url;
    this.log = log;
  }

  /** The binary, or a failure that says how to install it (never a silent skip). */
  static Path binary() {
    Path binary = Path.of(System.getProperty("gpupool.prometheus", "/usr/bin/prometheus"));
    if (!Files.isExecutable(binary)) {
      throw new AssertionError(
          binary
              + " is missing: apt-get install -y --no-install-recommends prometheus (Debian"
              + " package); the dashboard test runs every panel's query through it");
    }
    return binary;
  }

  static PrometheusServer start(Path dir, List<Target> targets) throws IOException {
    Path binary = binary();
    Files.createDirectories(dir);
    StringBuilder config =
        new StringBuilder(
            """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
            """);
    for (Target t : targets) {
      config.append(
          """
            - job_name: %s
              honor_labels: %s
              metrics_path: %s
              static_configs:
                - targets: ['%s']
          """
              .formatted(t.job(), t.honorLabels(), t.metricsPath(), t.hostPort()));
      if (t.bearerToken() != null) {
        config.append(
            """
                authorization:
                  credentials: '%s'
            """
                .formatted(t.bearerToken()));
      }
    }
    Path configFile = dir.resolve("prometheus.yml");
    Files.writeString(configFile, config);
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path log = dir.resolve("prometheus.log");
    Process process =
        new ProcessBuilder(
                binary.toString(),
                "--config.file=" + configFile,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    PrometheusServer server = new PrometheusServer(process, "http://127.0.0.1:" + port, log);
    server.awaitReady();
    return server;
  }

  private void awaitReady() throws IOException {
    Instant deadline = Instant.now().plusSeconds(30);
    while (Instant.now().isBefore(deadline)) {
      if (!process.isAlive()) {
        throw new AssertionError("prometheus exited: " + Files.readString(log));
      }
      try {
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(URI.create(url + "/-/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      SandboxCluster.sleep(200);
    }
    close();
    throw new AssertionError("prometheus not ready in 30 s: " + Files.readString(log));
  }

  /** An instant query at the current time. */
  JsonNode query(String promql) {
    return get("/api/v1/query?query=" + encode(promql));
  }

  /** A range query over [{@code start}, {@code end}] every {@code step}. */
  JsonNode queryRange(String promql, Instant start, Instant end, Duration step) {
    return get(
        "/api/v1/query_range?query="
            + encode(promql)
            + "&start="
            + start.getEpochSecond()
            + "&end="
            + end.getEpochSecond()
            + "&step="
            + step.toSeconds());
  }

  /** The targets' health as Prometheus sees it ({@code /api/v1/targets}). */
  JsonNode targets() {
    return get("/api/v1/targets");
  }

  private JsonNode get(String path) {
    try {
      HttpResponse<String> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url + path))
                  .timeout(Duration.ofSeconds(20))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new AssertionError("prometheus request " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no prometheus log: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
