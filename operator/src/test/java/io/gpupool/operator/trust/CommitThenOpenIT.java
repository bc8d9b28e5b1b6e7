package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.allocation.PodTracker;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.it.TestNodes;
import io.gpupool.operator.leader.Leadership;
import io.gpupool.operator.provider.ReliabilityTracker;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeWire;
import io.gpupool.scheduler.trust.ChallengeWork;
import io.gpupool.scheduler.trust.DigestTree;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The challenge runner asking a pod for its commitment and the leaves it draws after the root, over
 * HTTP on the pod's IP, as it does with examples/workloads/challenge.py: an honest node passes; a
 * node that committed made-up digests for its products is a wrong result naming the leaf; a node
 * that commits and opens nothing is a failed opening. Both failures quarantine the node. A node
 * that commits and never answers the openings request delays no other node's verdict and fails its
 * opening when the window ends. Each "pod" is a local HTTP server the test's kubelet reports at
 * 127.0.0.1 (or 127.0.0.2).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class CommitThenOpenIT {
  static final Duration TIMEOUT = Duration.ofSeconds(20);
  static final String NS = "challenge-restart";
  static final String PRODUCT = "NVIDIA-GeForce-RTX-4090";

  @Inject KubernetesClient client;
  @Inject NodeInventory inventory;
  @Inject AllocationLedger ledger;
  @Inject TrustLedger trust;
  @Inject ReliabilityTracker reliability;
  @Inject EventRecorder events;
  @Inject ChallengeDisputes disputes;
  @Inject ChallengeMetrics metrics;
  @Inject Leadership leadership;
  @Inject ProviderDirectory providers;
  @Inject PodTracker pods;
  private final List<String> created = new ArrayList<>();
  private final List<HttpServer> servers = new ArrayList<>();
  private final CountDownLatch released = new CountDownLatch(1);

  @AfterEach
  void cleanUp() {
    released.countDown();
    servers.forEach(s -> s.stop(0));
    servers.clear();
    for (String name : created) {
      client.nodes().withName(name).delete();
      client.resources(GpuProvider.class).withName(name).delete();
    }
    created.clear();
  }

  @Test
  void anHonestNodeOpeningItsCommitmentPasses() throws IOException {
    String node = challenged("opens-honestly", c -> digests(c, false), Opens.ASKED);
    assertThat(trust.quarantined(Map.of(node, PRODUCT))).isEmpty();
    assertThat(trust.unchallenged(node, PRODUCT)).as("judged: passed").isFalse();
  }

  @Test
  void aNodeThatCommittedMadeUpDigestsForItsProductsIsAWrongResult() throws IOException {
    // All but the first made up: of 4 distinct leaves opened, at least 3 are made up. (Skipping
    // half escapes 4 openings 1 time in 16: LeafOpeningsTest counts how often.)
    String node = challenged("skips", c -> digests(c, true), Opens.ASKED);
    assertThat(trust.quarantined(Map.of(node, PRODUCT)).get(node).reason())
        .isEqualTo("wrong challenge result");
  }

  @Test
  void aNodeThatCommitsAndOpensNothingIsAFailedOpening() throws IOException {
    String node = challenged("never-opens", c -> digests(c, false), Opens.NOTHING);
    assertThat(trust.quarantined(Map.of(node, PRODUCT)).get(node).reason())
        .isEqualTo("challenge commitment not opened");
  }

  /**
   * Openings are fetched off the challenge round's thread: a node that commits and then never
   * answers the openings request holds up neither the round nor another node's verdict, and after
   * the opening window its silence is a failed opening (late), as a node that opens nothing.
   */
  @Test
  void anOpenerThatNeverAnswersDelaysNoOtherNodesVerdictAndFailsItsOpening() throws Exception {
    String honest = joined("answers-openings");
    String silent = joined("silent-opener");
    ChallengeRunner runner = runner();
    Instant start = Instant.now();
    runner.startDue(start, List.of(inventory.node(honest).get(), inventory.node(silent).get()));
    Pod honestPod = challengePod(honest);
    Pod silentPod = challengePod(silent);
    int port = ChallengePods.openingPort(honestPod).orElseThrow();
    serve(
        "127.0.0.1",
        port,
        ChallengePods.challengeOf(honestPod).map(c -> digests(c, false)).orElseThrow(),
        Opens.ASKED);
    serve(
        "127.0.0.2",
        port,
        ChallengePods.challengeOf(silentPod).map(c -> digests(c, false)).orElseThrow(),
        Opens.NEVER);
    running(silentPod, "127.0.0.2");
    running(honestPod, "127.0.0.1");

    long began = System.nanoTime();
    roundsUntil(runner, () -> !ledger.holds(ChallengeRunner.HOLDER_PREFIX + honest));
    double honestAfter = (System.nanoTime() - began) / 1e9;
    assertThat(trust.quarantined(Map.of(honest, PRODUCT))).isEmpty();
    assertThat(trust.unchallenged(honest, PRODUCT)).as("judged: passed").isFalse();
    assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + silent))
        .as("the silent node is still within its opening window when the honest one is judged")
        .isTrue();
    assertThat(honestAfter).as("seconds to the honest node's verdict").isLessThan(3.0);

    roundsUntil(runner, () -> !ledger.holds(ChallengeRunner.HOLDER_PREFIX + silent));
    assertThat(trust.quarantined(Map.of(silent, PRODUCT)).get(silent).reason())
        .isEqualTo("challenge commitment not opened");
  }

  /** Challenges a fresh idle node whose "pod" commits to {@code committed} and maybe opens. */
  private String challenged(String name, Function<Challenge, List<String>> committed, Opens opens)
      throws IOException {
    joined(name);
    ChallengeRunner runner = runner();
    Instant start = Instant.now();
    runner.startDue(start, List.of(inventory.node(name).get()));
    Pod pod = challengePod(name);
    int port = ChallengePods.openingPort(pod).orElseThrow();
    serve("127.0.0.1", port, committed.apply(ChallengePods.challengeOf(pod).orElseThrow()), opens);
    running(pod, "127.0.0.1");
    roundsUntil(runner, () -> !ledger.holds(ChallengeRunner.HOLDER_PREFIX + name));
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get() == null);
    return name;
  }

  private String joined(String name) {
    TestNodes.join(client, name, name, PRODUCT, "0.40", 24564, "restart");
    created.add(name);
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                inventory.node(name).isPresent()
                    && providers.provider(name).isPresent()
                    && pods.ready());
    return name;
  }

  /** A runner whose challenge pods serve on a port free on 127.0.0.1 and 127.0.0.2. */
  private ChallengeRunner runner() throws IOException {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      port = probe.getLocalPort();
    }
    return new ChallengeRunner(
        new ChallengeRestartIT.Config(Optional.of(port)),
        client,
        inventory,
        ledger,
        trust,
        reliability,
        events,
        disputes,
        metrics,
        leadership,
        providers,
        pods);
  }

  private Pod challengePod(String node) {
    return client
        .pods()
        .inNamespace(NS)
        .withLabel(ChallengePods.CHALLENGE_LABEL, node)
        .list()
        .getItems()
        .get(0);
  }

  /** How a "pod" answers the request for its openings. */
  enum Opens {
    /** the leaves asked for */
    ASKED,
    /** an empty 200 */
    NOTHING,
    /** never: the request hangs until the test ends */
    NEVER
  }

  /** The "pod" at {@code ip}: commits to {@code digests} and answers for its openings so. */
  private void serve(String ip, int port, List<String> digests, Opens opens) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(ip, port), 4);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext(
        ChallengeWire.COMMITMENT_PATH,
        e -> reply(e, ChallengeWire.commitment(DigestTree.root(digests), digests.size())));
    server.createContext(
        ChallengeWire.OPENINGS_PATH,
        e -> {
          if (opens == Opens.NEVER) {
            try {
              released.await();
            } catch (InterruptedException interrupted) {
              Thread.currentThread().interrupt();
            }
            e.close();
            return;
          }
          List<Long> asked =
              ChallengeWire.parseQuery(e.getRequestURI().getRawQuery()).orElseThrow();
          reply(
              e,
              opens == Opens.NOTHING
                  ? ""
                  : ChallengeWire.openings(
                      asked.stream().map(p -> DigestTree.open(digests, p)).toList()));
        });
    server.start();
    servers.add(server);
  }

  /** The kubelet starts the pod on the node's network: the operator reaches it at its IP. */
  private void running(Pod pod, String ip) {
    client
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              p.setStatus(new PodStatus());
              p.getStatus().setPhase("Running");
              p.getStatus().setPodIP(ip);
              return p;
            });
  }

  /**
   * Challenge rounds on the operator's clock, 100 ms apart, until {@code done}: each round must end
   * within 500 ms, whatever the pods do (it reads each pod once and talks to none of them).
   */
  private static void roundsUntil(ChallengeRunner runner, BooleanSupplier done) {
    long until = System.nanoTime() + TIMEOUT.toNanos();
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as("judged within " + TIMEOUT).isLessThan(until);
      assertTimeoutPreemptively(
          Duration.ofMillis(500),
          () -> runner.pollRunning(Instant.now()),
          "a challenge round waited on a pod");
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  /** Every product's digest; with {@code skip}, all but the first made up (never computed). */
  private static List<String> digests(Challenge c, boolean skip) {
    List<String> out = new ArrayList<>();
    for (int r = 0; r < c.rounds(); r++) {
      out.add(skip && r > 0 ? String.format("%016x", r) : ChallengeWork.roundDigest(c, r));
    }
    return out;
  }

  private static void reply(HttpExchange e, String body) throws IOException {
    try (e) {
      byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
      e.sendResponseHeaders(200, bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = e.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }
}
