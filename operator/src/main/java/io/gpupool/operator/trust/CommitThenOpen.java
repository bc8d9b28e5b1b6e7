package io.gpupool.operator.trust;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.operator.config.DaemonThreads;
import io.gpupool.scheduler.trust.ChallengeWire;
import io.gpupool.scheduler.trust.DigestTree;
import io.gpupool.scheduler.trust.LeafOpenings;
import java.io.IOException;
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
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * The operator's side of a commit-then-open challenge ({@link LeafOpenings}, over {@link
 * ChallengeWire}): asks the running pod for its commitment; once it has one, draws the leaves to
 * open from its own secret, the nonce and the root, asks for them at once and checks them. The
 * commitment's arrival is the answer's time; the openings' check its correctness. The secret is
 * drawn per process: the positions only need to be unknown to the node until it committed, and each
 * commitment is opened by the process that received it.
 *
 * <p>The HTTP exchanges run on a pool of their own, never on the challenge round's thread: a node
 * that does not answer, or answers slowly, would otherwise hold up every other challenge's verdict
 * (and the start of new ones). A round only looks at where each exchange stands. Every call is
 * bounded: a commitment request that has not come back within {@link #COMMITMENT_TIMEOUT} (plus
 * {@link #GRACE}) is abandoned and asked again at a later round; openings not back within the
 * opening window (plus {@link #GRACE}) are missed, checked as openings that came too late: a failed
 * opening, the consequence of a node that committed and does not open.
 */
final class CommitThenOpen implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(CommitThenOpen.class);
  static final Duration COMMITMENT_TIMEOUT = Duration.ofSeconds(2);

  /** How much longer than a call's own timeout a round waits before abandoning it. */
  static final Duration GRACE = Duration.ofSeconds(1);

  /** What a node's commitment and openings showed. */
  record Opened(Instant committedAt, Optional<LeafOpenings.Problem> problem) {}

  /**
   * Where a node's exchange stands at a round.
   *
   * @param opened the commitment and the check of its openings, once known
   * @param awaitingOpenings a commitment arrived and its openings are still being fetched: the node
   *     answered, so no verdict is due before they are in (or missed)
   */
  record Polled(Optional<Opened> opened, boolean awaitingOpenings) {
    static final Polled NOTHING_YET = new Polled(Optional.empty(), false);

    static Polled of(Opened opened) {
      return new Polled(Optional.of(opened), false);
    }
  }

  private final byte[] secret;
  private final int samples;
  private final Duration window;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(COMMITMENT_TIMEOUT).build();
  private final ThreadPoolExecutor exchanges;
  private final Map<String, Opened> byNode = new ConcurrentHashMap<>();
  private final Map<String, Exchange> inFlight = new ConcurrentHashMap<>();

  /**
   * @param parallel most exchanges running at once: {@code maxConcurrent}, one per challenge in
   *     flight, so none waits unless a new leader adopted more. One that waits for a thread is not
   *     timed out meanwhile, but its commitment arrives that much later on the operator's clock: a
   *     wait can make a node look slower, never faster.
   */
  CommitThenOpen(byte[] secret, int samples, Duration window, int parallel) {
    this.secret = secret.clone();
    this.samples = Math.max(1, samples);
    this.window = window;
    int threads = Math.max(1, parallel);
    this.exchanges =
        new ThreadPoolExecutor(
            threads,
            threads,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            DaemonThreads.named("gpupool-challenge-openings"));
    exchanges.allowCoreThreadTimeOut(true);
  }

  /**
   * Where {@code r}'s pod stands: opened (its commitment and the check of its openings), awaiting
   * its openings, or nothing yet (not running, no usable IP, still computing, nothing readable).
   * Never waits on the pod: at most it starts an exchange that a later round reads.
   *
   * @param now the operator's clock at this round
   */
  Polled poll(ChallengeInFlight r, Pod pod, int port, Instant now) {
    Opened known = byNode.get(r.node());
    if (known != null) {
      return Polled.of(known);
    }
    Exchange exchange = inFlight.get(r.node());
    if (exchange != null) {
      Optional<Polled> stands = standing(r, exchange);
      if (stands.isPresent()) {
        return stands.get();
      }
    }
    Optional<URI> base = OpeningEndpoint.of(pod, port);
    if (base.isEmpty()) {
      return Polled.NOTHING_YET;
    }
    Exchange started = new Exchange(base.get(), now, System.nanoTime());
    try {
      started.future = exchanges.submit(() -> exchange(r, started));
      inFlight.put(r.node(), started);
    } catch (RejectedExecutionException e) {
      LOG.debugf("Node(%s): commitment not asked for: the operator is stopping", r.node());
    }
    return Polled.NOTHING_YET;
  }

  /**
   * An exchange's outcome, or that it is still on; empty when it ended without a commitment (or was
   * abandoned before one) and the pod should be asked again.
   */
  private Optional<Polled> standing(ChallengeInFlight r, Exchange exchange) {
    if (!exchange.future.isDone()) {
      if (exchange.asked == null) {
        long since = exchange.runningSinceNanos;
        if (since == 0 || System.nanoTime() - since <= COMMITMENT_TIMEOUT.plus(GRACE).toNanos()) {
          return Optional.of(new Polled(Optional.empty(), exchange.commitment != null));
        }
        if (exchange.future.cancel(true)) {
          inFlight.remove(r.node());
          return Optional.empty(); // no commitment in time: asked again
        }
      } else if (System.nanoTime() - exchange.askedNanos <= window.plus(GRACE).toNanos()) {
        return Optional.of(new Polled(Optional.empty(), true));
      } else if (exchange.future.cancel(true)) {
        Opened missed = missed(r, exchange);
        return Optional.of(Polled.of(remember(r, missed)));
      }
    }
    inFlight.remove(r.node());
    return outcome(r, exchange).map(o -> Polled.of(remember(r, o)));
  }

  private Opened remember(ChallengeInFlight r, Opened opened) {
    inFlight.remove(r.node());
    byNode.put(r.node(), opened);
    return opened;
  }

  private static Optional<Opened> outcome(ChallengeInFlight r, Exchange exchange) {
    try {
      return exchange.future.get();
    } catch (ExecutionException e) {
      LOG.infof("Node(%s): challenge commitment not read: %s", r.node(), e.getCause());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } catch (CancellationException e) {
      return Optional.empty();
    }
  }

  /** Openings that never came: checked as openings that came when the round gave up on them. */
  private Opened missed(ChallengeInFlight r, Exchange exchange) {
    LOG.infof(
        "Node(%s): openings not served within %s of the request: a failed opening",
        r.node(), window);
    return new Opened(
        exchange.commitment.at(),
        LeafOpenings.check(
            secret,
            r.challenge(),
            exchange.commitment,
            exchange.asked,
            List.of(),
            exchange.clock(),
            window));
  }

  /** Forgets a node's challenge once judged, abandoning an exchange still on. */
  void forget(String node) {
    byNode.remove(node);
    Exchange exchange = inFlight.remove(node);
    if (exchange != null && exchange.future != null) {
      exchange.future.cancel(true);
    }
  }

  @Override
  public void close() {
    exchanges.shutdownNow();
  }

  /**
   * One exchange with a pod, off the round's thread: the commitment, and if there is one, the
   * openings asked for at once. Empty when the pod has not committed (not listening yet, 503,
   * nothing readable).
   */
  private Optional<Opened> exchange(ChallengeInFlight r, Exchange exchange) {
    exchange.runningSinceNanos = System.nanoTime();
    Optional<ChallengeWire.Committed> committed;
    try {
      committed =
          get(exchange.base.resolve(ChallengeWire.COMMITMENT_PATH), COMMITMENT_TIMEOUT)
              .flatMap(ChallengeWire::parseCommitment);
    } catch (IOException e) {
      return Optional.empty(); // not listening yet: still computing
    }
    if (committed.isEmpty()) {
      return Optional.empty();
    }
    // Arrived now, on the operator's clock: a node cannot look faster by holding the request open.
    Instant at = exchange.clock();
    exchange.commitment =
        new LeafOpenings.Commitment(committed.get().root(), committed.get().leaves(), at);
    return Optional.of(new Opened(at, open(r, exchange)));
  }

  /** Asks for and checks the openings of {@code exchange}'s commitment. */
  private Optional<LeafOpenings.Problem> open(ChallengeInFlight r, Exchange exchange) {
    LeafOpenings.Commitment commitment = exchange.commitment;
    if (commitment.leaves() != r.challenge().rounds()) {
      // Checked by LeafOpenings too; asking a tree of the wrong size for leaves proves nothing.
      LeafOpenings.Request none =
          new LeafOpenings.Request(commitment.root(), List.of(), commitment.at());
      return LeafOpenings.check(
          secret, r.challenge(), commitment, none, List.of(), commitment.at(), window);
    }
    LeafOpenings.Request request =
        LeafOpenings.draw(secret, r.challenge(), commitment, samples, exchange.clock());
    exchange.askedNanos = System.nanoTime();
    exchange.asked = request;
    List<DigestTree.Opening> openings = List.of();
    try {
      openings =
          get(
                  exchange.base.resolve(
                      ChallengeWire.OPENINGS_PATH + "?" + ChallengeWire.query(request.positions())),
                  window.plusSeconds(1))
              .map(ChallengeWire::parseOpenings)
              .orElse(List.of());
    } catch (IOException e) {
      LOG.infof("Node(%s): openings not served: %s", r.node(), e.getMessage());
    }
    return LeafOpenings.check(
        secret, r.challenge(), commitment, request, openings, exchange.clock(), window);
  }

  /**
   * The body of a 200 answer (at most {@link ChallengeWire#MAX_BODY_BYTES}); empty otherwise. The
   * whole call, body included, ends within {@code timeout}: the client's own timeout ends at the
   * headers, and a blocking read of a body that stalls cannot be interrupted, so the body is
   * gathered asynchronously and the wait for it bounded.
   */
  private Optional<String> get(URI url, Duration timeout) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(url).timeout(timeout).GET().build();
    CompletableFuture<HttpResponse<byte[]>> call =
        http.sendAsync(request, info -> new BoundedBody(ChallengeWire.MAX_BODY_BYTES));
    try {
      HttpResponse<byte[]> response = call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return response.statusCode() == 200
          ? Optional.of(new String(response.body(), StandardCharsets.US_ASCII))
          : Optional.empty();
    } catch (TimeoutException e) {
      call.cancel(true);
      throw new IOException("no complete answer within " + timeout);
    } catch (ExecutionException e) {
      throw new IOException(e.getCause());
    } catch (InterruptedException e) {
      call.cancel(true);
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }

  /**
   * One exchange's state, written by its pool thread and read by rounds.
   *
   * @param startedAt the round's clock when the exchange was started, and {@code startedNanos} the
   *     monotonic time then: the exchange's own readings are {@code startedAt} plus what elapsed
   */
  private static final class Exchange {
    final URI base;
    final Instant startedAt;
    final long startedNanos;
    volatile Future<Optional<Opened>> future;
    volatile LeafOpenings.Commitment commitment;
    volatile long runningSinceNanos; // 0 while it waits for a thread
    volatile LeafOpenings.Request asked;
    volatile long askedNanos;

    Exchange(URI base, Instant startedAt, long startedNanos) {
      this.base = base;
      this.startedAt = startedAt;
      this.startedNanos = startedNanos;
    }

    /** The operator's clock now, read from the round that started the exchange. */
    Instant clock() {
      return startedAt.plusNanos(System.nanoTime() - startedNanos);
    }
  }
}
