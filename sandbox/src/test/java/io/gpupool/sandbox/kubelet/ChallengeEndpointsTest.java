package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWire;
import io.gpupool.scheduler.trust.ChallengeWork;
import io.gpupool.scheduler.trust.DigestTree;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The simulated node's side of a commit-then-open challenge, over real HTTP on its loopback pod IP:
 * what the operator's requests get (the commitment once the node's GPUs would be done, the leaves
 * asked for, 400 for a malformed request), what a node that never opens answers, and which pods get
 * no endpoint at all (no challenge, no port, a port that is no port).
 */
class ChallengeEndpointsTest {
  static final Challenge CHALLENGE = new Challenge("00112233445566778899aabbccddeeff", 16, 5);
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final List<String> log = new CopyOnWriteArrayList<>();
  private final List<String> opened = new CopyOnWriteArrayList<>();
  private final ChallengeEndpoints endpoints = new ChallengeEndpoints(log::add);

  @AfterEach
  void close() {
    endpoints.close();
  }

  @Test
  void anHonestNodeCommitsToEveryProductAndOpensTheLeavesAsked() throws Exception {
    int port = freePort();
    String ip =
        endpoints
            .serve(pod(String.valueOf(port)), ChallengeAnswersTest.node(Map.of()), opened::add)
            .orElseThrow();
    assertThat(ip).matches("127\\.78\\.\\d+\\.\\d+");
    String base = "http://" + ip + ":" + port;

    List<String> digests = new ArrayList<>();
    for (int r = 0; r < CHALLENGE.rounds(); r++) {
      digests.add(ChallengeWork.roundDigest(CHALLENGE, r));
    }
    awaitCommitment(base);
    assertThat(ChallengeWire.parseCommitment(get(base + ChallengeWire.COMMITMENT_PATH).body()))
        .contains(new ChallengeWire.Committed(DigestTree.root(digests), CHALLENGE.rounds()));

    var openings =
        get(base + ChallengeWire.OPENINGS_PATH + "?" + ChallengeWire.query(List.of(1L, 4L)));
    assertThat(openings.statusCode()).isEqualTo(200);
    assertThat(ChallengeWire.parseOpenings(openings.body()))
        .containsExactly(DigestTree.open(digests, 1), DigestTree.open(digests, 4))
        .allSatisfy(
            o ->
                assertThat(DigestTree.verifies(DigestTree.root(digests), digests.size(), o))
                    .isTrue());
    assertThat(opened).containsExactly("opened 2 leaves");
  }

  @Test
  void aMalformedRequestOrALeafBeyondTheTreeIs400AsChallengePyAnswers() throws Exception {
    int port = freePort();
    String base =
        "http://"
            + endpoints
                .serve(pod(String.valueOf(port)), ChallengeAnswersTest.node(Map.of()), opened::add)
                .orElseThrow()
            + ":"
            + port;
    awaitCommitment(base);
    for (String query :
        List.of(
            "", "?leaves=", "?leaves=a,b", "?leaves=-1", "?other=1", "?leaves=5", "?leaves=0,5")) {
      assertThat(get(base + ChallengeWire.OPENINGS_PATH + query).statusCode())
          .as(query)
          .isEqualTo(400);
    }
    assertThat(opened).as("nothing opened by a malformed request: the pod runs on").isEmpty();
    assertThat(get(base + "/elsewhere").statusCode()).isEqualTo(404);
  }

  @Test
  void aNodeThatNeverOpensCommitsAndAnswersAnOpeningsRequestWithNothing() throws Exception {
    int port = freePort();
    String base =
        "http://"
            + endpoints
                .serve(
                    pod(String.valueOf(port)),
                    ChallengeAnswersTest.node(Map.of(ChallengeAnswers.ANSWER_LABEL, "unopened")),
                    opened::add)
                .orElseThrow()
            + ":"
            + port;
    awaitCommitment(base);
    var openings = get(base + ChallengeWire.OPENINGS_PATH + "?" + ChallengeWire.query(List.of(0L)));
    assertThat(openings.statusCode()).isEqualTo(200);
    assertThat(openings.body()).isEmpty();
    assertThat(opened).as("the pod runs on: it never opened").isEmpty();
  }

  @Test
  void aStoppedPodIsNoLongerServed() throws Exception {
    int port = freePort();
    Pod pod = pod(String.valueOf(port));
    String base =
        "http://"
            + endpoints.serve(pod, ChallengeAnswersTest.node(Map.of()), opened::add).orElseThrow()
            + ":"
            + port;
    assertThat(endpoints.serve(pod, ChallengeAnswersTest.node(Map.of()), opened::add))
        .as("served once per pod")
        .isEmpty();
    endpoints.stop(pod.getMetadata().getUid());
    assertThatThrownBy(() -> get(base + ChallengeWire.COMMITMENT_PATH))
        .isInstanceOf(IOException.class);
  }

  /** A port env the operator would never write: the pod runs on unserved, as with no port. */
  @ParameterizedTest
  @ValueSource(strings = {"0", "-1", "65536", "99999999999", "84x1", ""})
  void aPortThatIsNoPortGetsNoEndpoint(String port) {
    assertThat(endpoints.serve(pod(port), ChallengeAnswersTest.node(Map.of()), opened::add))
        .as(port)
        .isEmpty();
  }

  @Test
  void podsThatAreNoCommitThenOpenChallengeGetNoEndpoint() {
    Pod withoutPort = pod("8471");
    withoutPort
        .getSpec()
        .getContainers()
        .get(0)
        .getEnv()
        .removeIf(e -> e.getName().equals(ChallengeEnv.PORT));
    assertThat(endpoints.serve(withoutPort, ChallengeAnswersTest.node(Map.of()), opened::add))
        .isEmpty();

    Pod notAChallenge = pod("8471");
    notAChallenge.getMetadata().getLabels().clear();
    assertThat(endpoints.serve(notAChallenge, ChallengeAnswersTest.node(Map.of()), opened::add))
        .isEmpty();

    Pod badNonce = pod("8471");
    badNonce.getSpec().getContainers().get(0).getEnv().get(0).setValue("not-a-nonce");
    assertThat(endpoints.serve(badNonce, ChallengeAnswersTest.node(Map.of()), opened::add))
        .isEmpty();

    assertThat(endpoints.serve(pod("8471"), null, opened::add)).as("no node").isEmpty();
  }

  /** Waits (at most 10 s) for the simulated GPUs to finish: 503 until then. */
  private static void awaitCommitment(String base) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (get(base + ChallengeWire.COMMITMENT_PATH).statusCode() != 200) {
      assertThat(System.nanoTime()).as("committed within 10 s").isLessThan(until);
      Thread.sleep(20);
    }
  }

  private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A commit-then-open challenge pod with {@code port} in its env. */
  private static Pod pod(String port) {
    return new PodBuilder()
        .withNewMetadata()
        .withNamespace("gpupool-system")
        .withName("gpupool-challenge-n-00112233")
        .withUid(UUID.randomUUID().toString())
        .addToLabels(ChallengeEnv.NODE_LABEL, "n")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("challenge")
        .withEnv(
            new EnvVar(ChallengeEnv.NONCE, CHALLENGE.nonce(), null),
            new EnvVar(ChallengeEnv.SIZE, Integer.toString(CHALLENGE.size()), null),
            new EnvVar(ChallengeEnv.ROUNDS, Integer.toString(CHALLENGE.rounds()), null),
            new EnvVar(ChallengeEnv.PORT, port, null))
        .endContainer()
        .endSpec()
        .build();
  }
}
