package io.gpupool.operator.it;

import io.fabric8.mockwebserver.http.RecordedRequest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The mock API server's request log, read as the operator's requests: the watches it opened per
 * kind and the GETs of one object. Every request since the server started counts (the log is
 * drained into this object on each question), so a test should own its server (its own profile).
 */
final class ApiRequests {
  private final KubernetesServer server;
  private final List<RecordedRequest> seen = new ArrayList<>();

  ApiRequests(KubernetesServer server) {
    this.server = server;
  }

  /**
   * Watch requests by the resource they watch (its plural: {@code pods}, {@code configmaps}, ...),
   * over all namespaces or one.
   */
  synchronized Map<String, List<String>> watchesByKind() throws InterruptedException {
    drain();
    Map<String, List<String>> out = new TreeMap<>();
    for (RecordedRequest r : seen) {
      String path = r.getPath();
      if (path != null && path.contains("watch=true")) {
        out.computeIfAbsent(plural(path), k -> new ArrayList<>()).add(path);
      }
    }
    return out;
  }

  /** GET requests of exactly {@code path} (a query string allowed). */
  synchronized List<String> gets(String path) throws InterruptedException {
    drain();
    return seen.stream()
        .filter(r -> "GET".equals(r.getMethod()))
        .map(RecordedRequest::getPath)
        .filter(p -> p.equals(path) || p.startsWith(path + "?"))
        .toList();
  }

  /** The collection a request is on: the last path segment before the query. */
  static String plural(String path) {
    int query = path.indexOf('?');
    String bare = query < 0 ? path : path.substring(0, query);
    return bare.substring(bare.lastIndexOf('/') + 1);
  }

  private void drain() throws InterruptedException {
    RecordedRequest r;
    while ((r = server.getKubernetesMockServer().takeRequest(100, TimeUnit.MILLISECONDS)) != null) {
      seen.add(r);
    }
  }
}
