package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.trust.ChallengeWire;
import io.gpupool.scheduler.trust.DigestTree;
import io.gpupool.scheduler.trust.LeafOpenings;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * The operator's side of a commit-then-open challenge ({@link LeafOpenings}, over {@link
 * ChallengeWire}): asks the running pod for its commitment each round; once it has one, draws the
 * leaves to open from its own secret, the nonce and the root, asks for them at once and checks
 * them. The commitment's arrival is the answer's time; the openings' check its correctness. The
 * secret is drawn per process: the positions only need to be unknown to the node until it
 * committed, and each commitment is opened by the process that received it.
 */
final class CommitThenOpen {
  private static final Logger LOG = Logger.getLogger(CommitThenOpen.class);
  private static final Duration COMMITMENT_TIMEOUT = Duration.ofSeconds(2);

  /** What a node's commitment and openings showed. */
  record Opened(Instant committedAt, Optional<LeafOpenings.Problem> problem) {}

  private final byte[] secret;
  private final int samples;
  private final Duration window;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(COMMITMENT_TIMEOUT).build();
  private final Map<String, Opened> byNode = new ConcurrentHashMap<>();

  CommitThenOpen(byte[] secret, int samples, Duration window) {
    this.secret = secret.clone();
    this.samples = Math.max(1, samples);
    this.window = window;
  }

  /**
   * The opened commitment of {@code r}'s pod; empty while the pod has not committed (not running,
   * no IP yet, still computing, or nothing readable).
   *
   * @param now the operator's clock at this round: the commitment's arrival time
   */
  Optional<Opened> poll(ChallengeInFlight r, Pod pod, int port, Instant now) {
    Opened known = byNode.get(r.node());
    if (known != null) {
      return Optional.of(known);
    }
    String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
    if (ip == null || !"Running".equals(pod.getStatus().getPhase())) {
      return Optional.empty();
    }
    String base = "http://" + (ip.contains(":") ? "[" + ip + "]" : ip) + ":" + port;
    Optional<ChallengeWire.Committed> committed;
    try {
      committed =
          get(base + ChallengeWire.COMMITMENT_PATH, COMMITMENT_TIMEOUT)
              .flatMap(ChallengeWire::parseCommitment);
    } catch (IOException e) {
      return Optional.empty(); // not listening yet: still computing
    }
    if (committed.isEmpty()) {
      return Optional.empty();
    }
    LeafOpenings.Commitment commitment =
        new LeafOpenings.Commitment(committed.get().root(), committed.get().leaves(), now);
    Opened opened = new Opened(now, open(r, base, commitment, now));
    byNode.put(r.node(), opened);
    return Optional.of(opened);
  }

  /** Forgets a node's challenge once judged. */
  void forget(String node) {
    byNode.remove(node);
  }

  /**
   * Asks for and checks the openings. The request goes out at {@code now}, the round's time (the
   * commitment's arrival); the openings arrive as much later as the exchange took, measured here.
   */
  private Optional<LeafOpenings.Problem> open(
      ChallengeInFlight r, String base, LeafOpenings.Commitment commitment, Instant now) {
    if (commitment.leaves() != r.challenge().rounds()) {
      // Checked by LeafOpenings too; asking a tree of the wrong size for leaves proves nothing.
      LeafOpenings.Request none = new LeafOpenings.Request(commitment.root(), List.of(), now);
      return LeafOpenings.check(secret, r.challenge(), commitment, none, List.of(), now, window);
    }
    long sent = System.nanoTime();
    LeafOpenings.Request request =
        LeafOpenings.draw(secret, r.challenge(), commitment, samples, now);
    List<DigestTree.Opening> openings = List.of();
    try {
      openings =
          get(
                  base
                      + ChallengeWire.OPENINGS_PATH
                      + "?"
                      + ChallengeWire.query(request.positions()),
                  window.plusSeconds(1))
              .map(ChallengeWire::parseOpenings)
              .orElse(List.of());
    } catch (IOException e) {
      LOG.infof("Node(%s): openings not served: %s", r.node(), e.getMessage());
    }
    Instant openedAt = now.plusNanos(System.nanoTime() - sent);
    return LeafOpenings.check(
        secret, r.challenge(), commitment, request, openings, openedAt, window);
  }

  /** The body of a 200 answer (at most {@link ChallengeWire#MAX_BODY_BYTES}); empty otherwise. */
  private Optional<String> get(String url, Duration timeout) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
    try {
      HttpResponse<InputStream> response =
          http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (InputStream body = response.body()) {
        byte[] bytes = body.readNBytes(ChallengeWire.MAX_BODY_BYTES);
        return response.statusCode() == 200
            ? Optional.of(new String(bytes, StandardCharsets.US_ASCII))
            : Optional.empty();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
