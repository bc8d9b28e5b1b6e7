package io.gpupool.sandbox.kubelet;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * Makes simulated serving pods report a load, the way a real model server does: over HTTP on its
 * pod IP and container port, so the code under test scrapes it exactly as it would in a cluster.
 *
 * <p>A pod opts in with the env var {@value #INFLIGHT_ENV} on its first container (its value: the
 * initial in-flight request count). It then gets a pod IP on the loopback network (127.77.x.y,
 * which Linux routes to this host) instead of an unroutable 10.244.x.y, and each of its declared
 * container ports answers every GET with the Prometheus text gauge {@value #METRIC}. The value can
 * be changed while the pod runs with the pod annotation {@value #INFLIGHT_ANNOTATION}, e.g. {@code
 * kubectl annotate pod P sandbox.gpupool.io/inflight-requests=40 --overwrite}; it is read from the
 * API server on each scrape. The endpoints close when the pod ends or is deleted.
 */
final class SimulatedMetricsEndpoints implements AutoCloseable {

  /** Env var of the first container: serve the load gauge, starting at this value. */
  static final String INFLIGHT_ENV = "SANDBOX_INFLIGHT_REQUESTS";

  /** Pod annotation that sets the reported in-flight requests while the pod runs. */
  static final String INFLIGHT_ANNOTATION = "sandbox.gpupool.io/inflight-requests";

  /** The gauge served (what gpupool's autoscaler reads, docs/inference.md). */
  static final String METRIC = "gpupool_inflight_requests";

  private final KubernetesClient client;
  private final Consumer<String> log;
  private final ExecutorService handlers =
      Executors.newFixedThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "sandbox-pod-metrics");
            t.setDaemon(true);
            return t;
          });

  /** Open endpoints by pod uid, with the loopback IP they listen on. */
  private final Map<String, Endpoint> byUid = new HashMap<>();

  private int addresses = 0;

  private record Endpoint(String ip, List<HttpServer> servers) {}

  SimulatedMetricsEndpoints(KubernetesClient client, Consumer<String> log) {
    this.client = client;
    this.log = log;
  }

  /**
   * Opens the pod's endpoints if it asks for them (once per pod; a restarted container keeps its
   * IP) and returns its loopback pod IP; empty for pods that do not serve a load.
   */
  synchronized Optional<String> serve(Pod pod) {
    String uid = pod.getMetadata().getUid();
    Endpoint open = byUid.get(uid);
    if (open != null) {
      return Optional.of(open.ip());
    }
    String initial = env(pod, INFLIGHT_ENV);
    List<Integer> ports = containerPorts(pod);
    if (initial == null || ports.isEmpty()) {
      return Optional.empty();
    }
    int n = ++addresses;
    String ip = "127.77." + (n / 250) + "." + (n % 250 + 1);
    String namespace = pod.getMetadata().getNamespace();
    String name = pod.getMetadata().getName();
    List<HttpServer> servers = new ArrayList<>();
    for (int port : ports) {
      try {
        HttpServer server =
            HttpServer.create(new InetSocketAddress(InetAddress.getByName(ip), port), 16);
        server.createContext("/", exchange -> answer(exchange, namespace, name, initial));
        server.setExecutor(handlers);
        server.start();
        servers.add(server);
      } catch (IOException e) {
        log.accept("pod/" + namespace + "/" + name + " cannot serve " + ip + ":" + port + ": " + e);
      }
    }
    byUid.put(uid, new Endpoint(ip, servers));
    log.accept("pod/" + namespace + "/" + name + " serves " + METRIC + " on " + ip + " " + ports);
    return Optional.of(ip);
  }

  /** Closes the endpoints of a pod that ended or was deleted. */
  synchronized void stop(String uid) {
    Endpoint open = byUid.remove(uid);
    if (open != null) {
      open.servers().forEach(s -> s.stop(0));
    }
  }

  private void answer(HttpExchange exchange, String namespace, String name, String initial)
      throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod())) {
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      String value;
      try {
        value = current(namespace, name, initial);
      } catch (KubernetesClientException e) {
        exchange.sendResponseHeaders(503, -1);
        return;
      }
      byte[] body =
          ("# HELP "
                  + METRIC
                  + " Requests accepted and not yet answered.\n# TYPE "
                  + METRIC
                  + " gauge\n"
                  + METRIC
                  + " "
                  + value
                  + "\n")
              .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** The annotation's value if set and numeric, else the env var's, else 0. */
  private String current(String namespace, String name, String initial) {
    Pod pod = client.pods().inNamespace(namespace).withName(name).get();
    String annotated =
        pod == null || pod.getMetadata().getAnnotations() == null
            ? null
            : pod.getMetadata().getAnnotations().get(INFLIGHT_ANNOTATION);
    for (String candidate : new String[] {annotated, initial}) {
      if (candidate != null) {
        try {
          double v = Double.parseDouble(candidate.trim());
          if (v >= 0 && !Double.isInfinite(v)) {
            return String.format(Locale.ROOT, "%s", v);
          }
        } catch (NumberFormatException e) {
          // not a number: fall through to the next source
        }
      }
    }
    return "0";
  }

  private static String env(Pod pod, String name) {
    if (pod.getSpec().getContainers().isEmpty()) {
      return null;
    }
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      if (name.equals(e.getName()) && e.getValue() != null) {
        return e.getValue();
      }
    }
    return null;
  }

  private static List<Integer> containerPorts(Pod pod) {
    List<Integer> ports = new ArrayList<>();
    for (var c : pod.getSpec().getContainers()) {
      for (ContainerPort p : c.getPorts()) {
        if (p.getContainerPort() != null && !ports.contains(p.getContainerPort())) {
          ports.add(p.getContainerPort());
        }
      }
    }
    return ports;
  }

  @Override
  public synchronized void close() {
    byUid.values().forEach(e -> e.servers().forEach(s -> s.stop(0)));
    byUid.clear();
    handlers.shutdownNow();
  }
}
