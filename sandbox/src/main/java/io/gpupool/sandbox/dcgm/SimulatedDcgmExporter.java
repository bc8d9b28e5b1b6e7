package io.gpupool.sandbox.dcgm;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A stand-in for NVIDIA's dcgm-exporter covering every GPU of the sandbox: serves {@code /metrics}
 * on 127.0.0.1 with the readings {@link SimulatedGpus} derives from the Nodes and Pods its
 * informers see (which pod holds which GPU, load while it runs, XID errors on a faulted node). The
 * real exporter runs as a DaemonSet, one per node, each labelling its series with {@code Hostname};
 * this one serves all nodes at one address with the same labels.
 */
public final class SimulatedDcgmExporter implements AutoCloseable {
  /** dcgm-exporter's default port. */
  public static final int DEFAULT_PORT = 9400;

  private final SimulatedGpus gpus = new SimulatedGpus();
  private final Clock clock;
  private final SharedIndexInformer<Node> nodes;
  private final SharedIndexInformer<Pod> pods;
  private final HttpServer server;
  private final ExecutorService executor;

  private SimulatedDcgmExporter(KubernetesClient client, int port, Clock clock) {
    this.clock = clock;
    this.nodes = client.nodes().inform();
    this.pods = client.pods().inAnyNamespace().inform();
    try {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    } catch (IOException e) {
      nodes.close();
      pods.close();
      throw new UncheckedIOException("cannot listen on 127.0.0.1:" + port, e);
    }
    executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "sandbox-dcgm-exporter");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/metrics", this::serveMetrics);
    server.createContext("/", this::serveNotFound);
    server.start();
  }

  /**
   * Starts the exporter on {@code port} (0: any free port), reading the cluster through {@code
   * client} (which the caller keeps and closes).
   */
  public static SimulatedDcgmExporter start(KubernetesClient client, int port) {
    return new SimulatedDcgmExporter(client, port, Clock.systemUTC());
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://127.0.0.1:PORT/metrics}. */
  public String url() {
    return "http://127.0.0.1:" + port() + "/metrics";
  }

  /** What a scrape would return now. */
  public String scrape() {
    return gpus.exposition(nodes.getStore().list(), pods.getStore().list(), clock.instant());
  }

  private void serveMetrics(HttpExchange exchange) throws IOException {
    respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", scrape());
  }

  private void serveNotFound(HttpExchange exchange) throws IOException {
    respond(exchange, 404, "text/plain; charset=utf-8", "dcgm-exporter (sandbox): see /metrics\n");
  }

  private static void respond(HttpExchange exchange, int code, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().add("Content-Type", type);
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
    nodes.close();
    pods.close();
  }
}
