package io.gpupool.e2e;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;

/**
 * One more packaged operator process against a running sandbox, as a second replica of a Helm
 * release would be: own log under target/e2e-logs, own metrics port.
 */
final class OperatorProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final int httpPort;

  private OperatorProcess(Process process, Path log, int httpPort) {
    this.process = process;
    this.log = log;
    this.httpPort = httpPort;
  }

  /**
   * Starts a replica with {@code kubeconfig} (usually {@link SandboxCluster#operatorKubeconfig()}:
   * the chart's service account) and {@code env} on top of {@code POD_NAMESPACE}={@value
   * ChartRelease#NAMESPACE}.
   */
  static OperatorProcess start(Path kubeconfig, String name, Map<String, String> env)
      throws IOException {
    Path jar = SandboxCluster.REPO.resolve("operator/target/quarkus-app/quarkus-run.jar");
    Path logs = SandboxCluster.REPO.resolve("e2e-tests/target/e2e-logs");
    Files.createDirectories(logs);
    Path log = logs.resolve(name + "-operator.log");
    int port = freePort();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    ProcessBuilder pb =
        new ProcessBuilder(List.of(java, "-Xmx512m", "-jar", jar.toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    pb.environment().put("QUARKUS_HTTP_PORT", Integer.toString(port));
    pb.environment().put("POD_NAMESPACE", ChartRelease.NAMESPACE); // the chart's downward API
    pb.environment().putAll(env);
    return new OperatorProcess(pb.start(), log, port);
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  long pid() {
    return process.pid();
  }

  /** The port of its HTTP (metrics) endpoint. */
  int httpPort() {
    return httpPort;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String log() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no operator log: " + e + ")";
    }
  }

  /** Waits until the log contains {@code text}; fails with the log if the process exits first. */
  void awaitLog(String text, Duration timeout) {
    Instant deadline = Instant.now().plus(timeout);
    while (Instant.now().isBefore(deadline)) {
      String current = log();
      if (current.contains(text)) {
        return;
      }
      if (!process.isAlive()) {
        throw new AssertionError("operator exited before logging '" + text + "':\n" + current);
      }
      SandboxCluster.sleep(200);
    }
    throw new AssertionError("operator did not log '" + text + "' in " + timeout + ":\n" + log());
  }

  /** The value of an unlabelled gauge on the metrics endpoint, empty when not (yet) served. */
  OptionalDouble gauge(String name) {
    try {
      HttpResponse<String> response =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/metrics"))
                      .timeout(Duration.ofSeconds(5))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      return response
          .body()
          .lines()
          .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
          .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
          .findFirst();
    } catch (IOException e) {
      return OptionalDouble.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return OptionalDouble.empty();
    }
  }

  /** SIGKILL, as a crashed pod or a lost node: no graceful Lease release. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
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
