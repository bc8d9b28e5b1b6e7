package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.gpupool.sandbox.api.SandboxApiServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kubectl delete --all --wait} while a controller lifts the objects' finalizers, as the
 * chart's uninstall hook runs it while the operator runs. kubectl waits for each object by listing
 * it and then watching from the list's resourceVersion. Here the race is made certain: kubectl
 * talks through a proxy that lifts an object's finalizer (so the API server deletes it) just before
 * forwarding kubectl's watch for it, after its list. A server that does not replay the deletion to
 * that watch leaves kubectl waiting until its timeout.
 */
class KubectlDeleteWaitIT {

  private static final String NS = "finalized";
  private static final int OBJECTS = 3;
  private static final Pattern WATCHED_NAME =
      Pattern.compile("fieldSelector=metadata\\.name(?:=|%3D)([a-z0-9-]+)");
  private static final List<String> FORWARDED_HEADERS =
      List.of("Accept", "Content-Type", "Authorization", "User-Agent");

  @TempDir static Path dir;
  private static SandboxApiServer server;
  private static HttpServer proxy;
  private static ExecutorService proxyThreads;
  private static Kubectl kubectl;
  private static final Set<String> racedWatches = ConcurrentHashMap.newKeySet();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() throws IOException {
    server = new SandboxApiServer();
    server.start(0);
    proxy = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    proxyThreads = Executors.newCachedThreadPool();
    proxy.setExecutor(proxyThreads);
    proxy.createContext("/", KubectlDeleteWaitIT::forward);
    proxy.start();
    Path kubeconfig = dir.resolve("kubeconfig");
    Files.writeString(
        kubeconfig, Sandbox.kubeconfigYaml("http://127.0.0.1:" + proxy.getAddress().getPort()));
    kubectl = new Kubectl(kubeconfig, dir.resolve("cache"));
  }

  @AfterAll
  static void stop() {
    if (proxy != null) {
      proxy.stop(0);
      proxyThreads.shutdownNow();
    }
    if (server != null) {
      server.close();
    }
  }

  @Test
  void deleteWaitSeesADeletionThatHappensBetweenItsListAndItsWatch() {
    kubectl.run("create", "namespace", NS).ok();
    StringBuilder objects = new StringBuilder();
    for (int i = 0; i < OBJECTS; i++) {
      objects.append(
          """
          ---
          apiVersion: v1
          kind: ConfigMap
          metadata:
            name: cm-%d
            namespace: %s
            finalizers: [gpupool.io/finalizer]
          """
              .formatted(i, NS));
    }
    kubectl.runWithInput(objects.toString(), "apply", "-f", "-").ok();

    long started = System.nanoTime();
    Kubectl.Result deleted =
        kubectl.run("delete", "configmaps", "--all", "-n", NS, "--wait=true", "--timeout=20s");
    Duration took = Duration.ofNanos(System.nanoTime() - started);

    assertThat(deleted.exit())
        .as("kubectl delete --wait after %s: %s %s", took, deleted.out(), deleted.err())
        .isZero();
    assertThat(racedWatches)
        .as("every wait's watch came after its list found the object still there")
        .hasSize(OBJECTS);
    assertThat(deleted.out()).contains("configmap \"cm-0\" deleted");
    assertThat(took).isLessThan(Duration.ofSeconds(15));
    assertThat(kubectl.run("get", "configmaps", "-n", NS, "-o", "name").ok().out()).isBlank();
  }

  /** Forwards one request to the sandbox, streaming the answer (watches included). */
  private static void forward(HttpExchange exchange) throws IOException {
    try (exchange) {
      URI uri = exchange.getRequestURI();
      String query = uri.getRawQuery() == null ? "" : uri.getRawQuery();
      if (query.contains("watch=true") && uri.getRawPath().contains("/namespaces/" + NS + "/")) {
        Matcher name = WATCHED_NAME.matcher(query);
        if (name.find()
            && liftFinalizer(URLDecoder.decode(name.group(1), StandardCharsets.UTF_8))) {
          racedWatches.add(name.group(1));
        }
      }
      HttpRequest.Builder request =
          HttpRequest.newBuilder(
              URI.create(server.url() + uri.getRawPath() + (query.isEmpty() ? "" : "?" + query)));
      for (String header : FORWARDED_HEADERS) {
        String value = exchange.getRequestHeaders().getFirst(header);
        if (value != null) {
          request.header(header, value);
        }
      }
      byte[] body = exchange.getRequestBody().readAllBytes();
      request.method(
          exchange.getRequestMethod(),
          body.length == 0
              ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofByteArray(body));
      HttpResponse<InputStream> response =
          HTTP.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
      response
          .headers()
          .firstValue("Content-Type")
          .ifPresent(v -> exchange.getResponseHeaders().add("Content-Type", v));
      exchange.sendResponseHeaders(response.statusCode(), 0);
      try (InputStream in = response.body();
          OutputStream out = exchange.getResponseBody()) {
        byte[] buffer = new byte[8192];
        int n;
        while ((n = in.read(buffer)) >= 0) {
          out.write(buffer, 0, n);
          out.flush();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The controller's part: lifts the finalizer of a configmap marked for deletion. */
  private static boolean liftFinalizer(String name) throws IOException, InterruptedException {
    String path = server.url() + "/api/v1/namespaces/" + NS + "/configmaps/" + name;
    HttpResponse<String> current =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(path)).build(), HttpResponse.BodyHandlers.ofString());
    if (current.statusCode() != 200 || !current.body().contains("deletionTimestamp")) {
      return false;
    }
    HttpResponse<String> lifted =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(path))
                .header("Content-Type", "application/merge-patch+json")
                .method(
                    "PATCH",
                    HttpRequest.BodyPublishers.ofString("{\"metadata\":{\"finalizers\":null}}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return lifted.statusCode() == 200;
  }
}
