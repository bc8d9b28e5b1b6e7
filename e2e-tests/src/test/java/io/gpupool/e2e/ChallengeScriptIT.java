package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWire;
import io.gpupool.scheduler.trust.ChallengeWork;
import io.gpupool.scheduler.trust.DigestTree;
import io.gpupool.scheduler.trust.LeafOpenings;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * examples/workloads/challenge.py with real torch, against gpu-scheduler's definition of the work
 * and of the commit-then-open exchange: its self-test prints the digests and root Java computes,
 * and in commit-then-open mode it commits to every product, opens the leaves the operator draws
 * after the root, and exits with "opened N leaves", also for more rounds than a termination message
 * holds, computed in batches. Needs python3-torch.
 */
class ChallengeScriptIT {
  private static final Path SCRIPT = SandboxCluster.REPO.resolve("examples/workloads/challenge.py");
  private static final byte[] SECRET =
      "a challenge-script test secret!!".getBytes(StandardCharsets.UTF_8);

  @Test
  void theSelfTestPrintsTheDigestsAndTheRootJavaComputes() throws Exception {
    RealWorkloadsE2E.requireTorch();
    Process p =
        new ProcessBuilder(RealWorkloadsE2E.PYTHON, SCRIPT.toString(), "--self-test").start();
    String[] lines = new String(p.getInputStream().readAllBytes()).trim().split("\n");
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    Challenge pinned = new Challenge("00112233445566778899aabbccddeeff", 16, 3);
    assertThat(lines[0]).isEqualTo(ChallengeWork.answer(pinned));
    List<String> digests = new ArrayList<>();
    for (int r = 0; r < 3; r++) {
      digests.add(ChallengeWork.roundDigest(pinned, r));
    }
    assertThat(lines[1]).isEqualTo(DigestTree.root(digests));
  }

  @Test
  void itCommitsAndOpensTheLeavesDrawnAfterTheRoot() throws Exception {
    RealWorkloadsE2E.requireTorch();
    Challenge challenge = new Challenge("0f1e2d3c4b5a69788796a5b4c3d2e1f0", 48, 37);
    String output = commitAndOpen(challenge, 6, Optional.empty());
    assertThat(output).contains("opened 6 leaves");
  }

  /**
   * Ten thousand rounds, past the 240 a termination message holds: computed in batches of 999 (the
   * last one of 10) and hashed in chunks of 4096 leaves (the last one partial) by two worker
   * processes, the root is the one Java computes over every digest and every drawn leaf opens to
   * it.
   */
  @Test
  void aBatchedRunOfTenThousandRoundsCommitsToTheRootJavaComputes() throws Exception {
    RealWorkloadsE2E.requireTorch();
    Challenge challenge = new Challenge("00ff11ee22dd33cc44bb55aa66997788", 16, 10_000);
    List<String> digests = new ArrayList<>(challenge.rounds());
    for (int r = 0; r < challenge.rounds(); r++) {
      digests.add(ChallengeWork.roundDigest(challenge, r));
    }
    String output = commitAndOpen(challenge, 8, Optional.of(999));
    assertThat(output)
        .contains("committed " + DigestTree.root(digests) + " 10000")
        .contains("opened 8 leaves");
  }

  /**
   * Runs the script in commit-then-open mode, checks its commitment and the openings of {@code
   * samples} leaves drawn after it as the operator does, and returns what the script printed.
   */
  private static String commitAndOpen(Challenge challenge, int samples, Optional<Integer> batch)
      throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ProcessBuilder pb =
        new ProcessBuilder(RealWorkloadsE2E.PYTHON, SCRIPT.toString()).redirectErrorStream(true);
    pb.environment().put(ChallengeEnv.NONCE, challenge.nonce());
    pb.environment().put(ChallengeEnv.SIZE, Integer.toString(challenge.size()));
    pb.environment().put(ChallengeEnv.ROUNDS, Integer.toString(challenge.rounds()));
    pb.environment().put(ChallengeEnv.PORT, Integer.toString(port));
    pb.environment().put("GPUPOOL_CHALLENGE_WAIT", "60");
    batch.ifPresent(
        b -> {
          pb.environment().put("GPUPOOL_CHALLENGE_BATCH", Integer.toString(b));
          // On a CPU the program hashes inline; two workers exercise a GPU node's hashing.
          pb.environment().put("GPUPOOL_CHALLENGE_HASHERS", "2");
        });
    Process p = pb.start();
    try {
      HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
      String base = "http://127.0.0.1:" + port;
      Optional<ChallengeWire.Committed> committed = Optional.empty();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (committed.isEmpty() && System.nanoTime() < until && p.isAlive()) {
        try {
          committed =
              ChallengeWire.parseCommitment(get(http, base + ChallengeWire.COMMITMENT_PATH));
        } catch (ConnectException e) {
          Thread.sleep(200); // still computing: not listening yet
        }
      }
      assertThat(committed).as("a commitment within 60 s").isPresent();
      LeafOpenings.Commitment commitment =
          new LeafOpenings.Commitment(
              committed.get().root(), committed.get().leaves(), Instant.now());
      LeafOpenings.Request request =
          LeafOpenings.draw(SECRET, challenge, commitment, samples, Instant.now());
      String body =
          get(
              http,
              base + ChallengeWire.OPENINGS_PATH + "?" + ChallengeWire.query(request.positions()));
      Optional<LeafOpenings.Problem> problem =
          LeafOpenings.check(
              SECRET,
              challenge,
              commitment,
              request,
              ChallengeWire.parseOpenings(body),
              Instant.now(),
              Duration.ofSeconds(10));
      assertThat(problem).as(body).isEmpty();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isZero();
      return new String(p.getInputStream().readAllBytes());
    } finally {
      p.destroyForcibly();
    }
  }

  private static String get(HttpClient http, String url) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }
}
