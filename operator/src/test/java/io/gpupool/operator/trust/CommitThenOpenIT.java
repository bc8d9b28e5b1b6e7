package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The challenge runner asking a pod for its commitment and the leaves it draws after the root, over
 * HTTP on the pod's IP, as it does with examples/workloads/challenge.py: an honest node passes; a
 * node that committed made-up digests for half its products is a wrong result naming the leaf; a
 * node that commits and opens nothing is a failed opening. Both failures quarantine the node. The
 * "pod" is a local HTTP server the test's kubelet reports at 127.0.0.1.
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
  private HttpServer server;

  @AfterEach
  void cleanUp() {
    if (server != null) {
      server.stop(0);
    }
    for (String name : created) {
      client.nodes().withName(name).delete();
      client.resources(GpuProvider.class).withName(name).delete();
    }
    created.clear();
  }

  @Test
  void anHonestNodeOpeningItsCommitmentPasses() throws IOException {
    String node = challenged("opens-honestly", c -> digests(c, false), true);
    assertThat(trust.quarantined(Map.of(node, PRODUCT))).isEmpty();
    assertThat(trust.unchallenged(node, PRODUCT)).as("judged: passed").isFalse();
  }

  @Test
  void aNodeThatCommittedMadeUpDigestsForHalfItsProductsIsAWrongResult() throws IOException {
    String node = challenged("skips-half", c -> digests(c, true), true);
    assertThat(trust.quarantined(Map.of(node, PRODUCT)).get(node).reason())
        .isEqualTo("wrong challenge result");
  }

  @Test
  void aNodeThatCommitsAndOpensNothingIsAFailedOpening() throws IOException {
    String node = challenged("never-opens", c -> digests(c, false), false);
    assertThat(trust.quarantined(Map.of(node, PRODUCT)).get(node).reason())
        .isEqualTo("challenge commitment not opened");
  }

  /** Challenges a fresh idle node whose "pod" commits to {@code committed} and maybe opens. */
  private String challenged(String name, Function<Challenge, List<String>> committed, boolean opens)
      throws IOException {
    TestNodes.join(client, name, name, PRODUCT, "0.40", 24564, "restart");
    created.add(name);
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                inventory.node(name).isPresent()
                    && providers.provider(name).isPresent()
                    && pods.ready());
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
    int port = server.getAddress().getPort();
    ChallengeRunner runner =
        new ChallengeRunner(
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
    Instant start = Instant.now();
    runner.startDue(start, List.of(inventory.node(name).get()));
    Pod pod =
        client
            .pods()
            .inNamespace(NS)
            .withLabel(ChallengePods.CHALLENGE_LABEL, name)
            .list()
            .getItems()
            .get(0);
    assertThat(ChallengePods.openingPort(pod)).contains(port);
    Challenge challenge = ChallengePods.challengeOf(pod).orElseThrow();
    List<String> digests = committed.apply(challenge);
    server.createContext(
        ChallengeWire.COMMITMENT_PATH,
        e -> reply(e, ChallengeWire.commitment(DigestTree.root(digests), digests.size())));
    server.createContext(
        ChallengeWire.OPENINGS_PATH,
        e -> {
          List<Long> asked =
              ChallengeWire.parseQuery(e.getRequestURI().getRawQuery()).orElseThrow();
          reply(
              e,
              opens
                  ? ChallengeWire.openings(
                      asked.stream().map(p -> DigestTree.open(digests, p)).toList())
                  : "");
        });
    server.start();
    // The kubelet starts the pod on the node's network: the operator reaches it at its IP.
    client
        .pods()
        .inNamespace(NS)
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              p.setStatus(new PodStatus());
              p.getStatus().setPhase("Running");
              p.getStatus().setPodIP("127.0.0.1");
              return p;
            });
    runner.pollRunning(start.plusSeconds(1));
    assertThat(ledger.holds(ChallengeRunner.HOLDER_PREFIX + name)).as("judged").isFalse();
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client.pods().inNamespace(NS).withName(pod.getMetadata().getName()).get() == null);
    return name;
  }

  /** Every product's digest; with {@code skipOdd}, odd rounds made up (never computed). */
  private static List<String> digests(Challenge c, boolean skipOdd) {
    List<String> out = new ArrayList<>();
    for (int r = 0; r < c.rounds(); r++) {
      out.add(skipOdd && r % 2 == 1 ? String.format("%016x", r) : ChallengeWork.roundDigest(c, r));
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
