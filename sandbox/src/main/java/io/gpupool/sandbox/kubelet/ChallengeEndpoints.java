package io.gpupool.sandbox.kubelet;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWire;
import io.gpupool.scheduler.trust.DigestTree;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Serves a simulated node's side of a commit-then-open challenge, as
 * examples/workloads/challenge.py does on a real one ({@link ChallengeWire}): on a loopback pod IP
 * (127.78.x.y) and the pod's {@link ChallengeEnv#PORT}, {@code /commitment} answers 503 until the
 * node's GPUs would have finished ({@link ChallengeAnswers#commitment}), then the root over what
 * the node committed; {@code /openings} opens the asked leaves of that tree, and the pod then ends
 * with "opened N leaves". A dishonest node's tree holds made-up digests, so its openings lead to
 * the root but not to the products the operator recomputes; a node that does not open answers with
 * nothing.
 */
final class ChallengeEndpoints implements AutoCloseable {
  private final Consumer<String> log;
  private final ExecutorService handlers =
      Executors.newFixedThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "sandbox-challenge-endpoints");
            t.setDaemon(true);
            return t;
          });
  private final Map<String, HttpServer> byUid = new HashMap<>();

  // Loopback addresses are shared by every sandbox on the machine: each starts at a random one and
  // skips an address taken on the pod's port.
  private int addresses = ThreadLocalRandom.current().nextInt(60_000);
  private final int block = PodNetwork.processBlock();

  ChallengeEndpoints(Consumer<String> log) {
    this.log = log;
  }

  /**
   * Starts serving {@code pod}'s commitment if it is a commit-then-open challenge and returns its
   * pod IP; {@code opened} gets the termination message once the openings were served.
   */
  synchronized Optional<String> serve(Pod pod, Node node, Consumer<String> opened) {
    Optional<ChallengeAnswers.Commitment> commitment = ChallengeAnswers.commitment(pod, node);
    Optional<Integer> port = port(pod);
    if (commitment.isEmpty() || port.isEmpty() || byUid.containsKey(uid(pod))) {
      return Optional.empty();
    }
    List<String> digests = commitment.get().digests();
    String body = ChallengeWire.commitment(DigestTree.root(digests), digests.size());
    long readyAt = System.nanoTime() + commitment.get().wallMillis() * 1_000_000;
    String name = pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    String ip = null;
    HttpServer server = null;
    for (int attempt = 0; server == null && attempt < 8; attempt++) {
      int n = ++addresses % 60_000;
      ip = PodNetwork.loopback(PodNetwork.POD_RANGE, block, n);
      try {
        server =
            HttpServer.create(new InetSocketAddress(InetAddress.getByName(ip), port.get()), 16);
      } catch (IOException e) {
        log.accept("pod/" + name + " cannot serve its challenge on " + ip + ": " + e);
      }
    }
    if (server == null) {
      return Optional.empty();
    }
    server.createContext(
        ChallengeWire.COMMITMENT_PATH,
        exchange -> reply(exchange, ready(readyAt) ? 200 : 503, ready(readyAt) ? body : ""));
    server.createContext(
        ChallengeWire.OPENINGS_PATH,
        exchange -> {
          Optional<List<Long>> asked =
              ChallengeWire.parseQuery(exchange.getRequestURI().getRawQuery());
          // As challenge.py: a leaf outside the tree makes the whole request a bad one.
          boolean bad = asked.isEmpty() || asked.get().stream().anyMatch(l -> l >= digests.size());
          if (!ready(readyAt) || bad) {
            reply(exchange, ready(readyAt) ? 400 : 503, "");
            return;
          }
          if (!commitment.get().opens()) {
            reply(exchange, 200, "");
            return;
          }
          List<DigestTree.Opening> openings = new ArrayList<>();
          for (long leaf : asked.get()) {
            openings.add(DigestTree.open(digests, leaf));
          }
          reply(exchange, 200, ChallengeWire.openings(openings));
          opened.accept("opened " + openings.size() + " leaves");
        });
    server.setExecutor(handlers);
    server.start();
    byUid.put(uid(pod), server);
    return Optional.of(ip);
  }

  /** Stops serving a pod that ended or was deleted. */
  synchronized void stop(String uid) {
    HttpServer server = byUid.remove(uid);
    if (server != null) {
      server.stop(0);
    }
  }

  private static boolean ready(long readyAt) {
    return System.nanoTime() - readyAt >= 0;
  }

  private static void reply(HttpExchange exchange, int code, String body) throws IOException {
    try (exchange) {
      byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
      exchange.getResponseHeaders().set("Content-Type", "text/plain");
      exchange.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  private static String uid(Pod pod) {
    return pod.getMetadata().getUid();
  }

  private static Optional<Integer> port(Pod pod) {
    for (var e : pod.getSpec().getContainers().get(0).getEnv()) {
      if (ChallengeEnv.PORT.equals(e.getName()) && e.getValue() != null) {
        try {
          // 0 would bind a port the operator never asks; above 65535 cannot be bound at all.
          int port = Integer.parseInt(e.getValue().trim());
          return port >= 1 && port <= 65_535 ? Optional.of(port) : Optional.empty();
        } catch (NumberFormatException ignored) {
          return Optional.empty();
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public synchronized void close() {
    byUid.values().forEach(s -> s.stop(0));
    byUid.clear();
    handlers.shutdownNow();
  }
}
