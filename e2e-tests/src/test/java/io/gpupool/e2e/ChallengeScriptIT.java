package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWire;
import io.gpupool.scheduler.trust.ChallengeWork;
import io.gpupool.scheduler.trust.DigestTree;
import io.gpupool.scheduler.trust.LeafOpenings;
import io.gpupool.scheduler.trust.MeasuredRate;
import io.gpupool.scheduler.trust.MeasuredRates;
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
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * examples/workloads/challenge.py with real torch, against gpu-scheduler's definition of the work
 * and of the commit-then-open exchange: its self-test prints the digests and root Java computes,
 * and in commit-then-open mode it commits to every product, opens the leaves the operator draws
 * after the root, and exits with "opened N leaves", also for more rounds than a termination message
 * holds, computed in batches; its {@code --bench} calibration commits the same way and prints the
 * rate setting the operator reads. Needs python3-torch.
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
    String output = commitAndOpen(challenge, 8, Optional.of(999));
    assertThat(output)
        .contains("committed " + rootJavaComputes(challenge) + " 10000")
        .contains("opened 8 leaves");
  }

  /**
   * The calibration an operator runs on one node of a product: {@code --bench SIZE ROUNDS} commits
   * to the same tree a challenge of those rounds does (its root is the one Java computes), and
   * prints the product as GFD labels it ("cpu" here), the size, the rounds per second per GPU, and
   * the chart and operator settings, which the operator's own parser reads back as that rate.
   */
  @Test
  void theBenchCommitsAsAChallengeDoesAndPrintsTheRateToPaste() throws Exception {
    RealWorkloadsE2E.requireTorch();
    Challenge challenge = new Challenge("00112233445566778899aabbccddeeff", 16, 2000);
    List<String> lines = bench(Map.of(), "--bench", "16", "2000");
    assertThat(lines.get(0))
        .startsWith("size 16, 2000 rounds, ")
        .endsWith("root " + rootJavaComputes(challenge).substring(0, 16));
    double printed =
        Double.parseDouble(lines.get(0).replaceAll(".*s, ([0-9.]+) rounds/s,.*", "$1"));
    MeasuredRate rate = onlyRate(lines);
    assertThat(rate.product()).isEqualTo("cpu");
    assertThat(rate.size()).isEqualTo(16);
    // Rounded down to three digits from the run's own figure (one device: per GPU is the whole).
    assertThat(rate.roundsPerSecond()).isBetween(printed * 0.99, printed);
    assertThat(lines)
        .contains(
            "product cpu, the CPU as one GPU, size 16: "
                + MeasuredRates.entry(rate).replace("cpu@16=", "")
                + " rounds/s per GPU")
        .contains(
            "  - {product: cpu, size: 16, roundsPerSecond: "
                + MeasuredRates.entry(rate).replace("cpu@16=", "")
                + "}");
  }

  /** Without ROUNDS the bench doubles them until a run takes the time asked for. */
  @Test
  void withoutRoundsTheBenchRunsLongEnoughToBeTimed() throws Exception {
    RealWorkloadsE2E.requireTorch();
    List<String> lines = bench(Map.of("GPUPOOL_CHALLENGE_BENCH_SECONDS", "1"), "--bench", "32");
    double seconds =
        Double.parseDouble(lines.get(0).replaceAll(".*processes: ([0-9.]+) s,.*", "$1"));
    int rounds = Integer.parseInt(lines.get(0).replaceAll("size 32, ([0-9]+) rounds,.*", "$1"));
    assertThat(seconds).isGreaterThanOrEqualTo(1.0);
    assertThat(Integer.bitCount(rounds / 8)).as("8 doubled: %d", rounds).isEqualTo(1);
    assertThat(onlyRate(lines).size()).isEqualTo(32);
  }

  /** The DigestTree root over every round's digest, as gpu-scheduler computes them. */
  private static String rootJavaComputes(Challenge challenge) {
    List<String> digests = new ArrayList<>(challenge.rounds());
    for (int r = 0; r < challenge.rounds(); r++) {
      digests.add(ChallengeWork.roundDigest(challenge, r));
    }
    return DigestTree.root(digests);
  }

  /** Runs {@code challenge.py} with {@code args}; its output lines (it must exit 0). */
  private static List<String> bench(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(RealWorkloadsE2E.PYTHON, SCRIPT.toString()));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    try {
      String output = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(output).isZero();
      return output.lines().toList();
    } finally {
      p.destroyForcibly();
    }
  }

  /** The operator setting the bench printed, read as the operator reads it. */
  private static MeasuredRate onlyRate(List<String> lines) {
    int heading =
        lines.indexOf(
            lines.stream().filter(l -> l.startsWith("operator setting")).findFirst().orElseThrow());
    List<MeasuredRate> rates = MeasuredRates.parse(List.of(lines.get(heading + 1))).all();
    assertThat(rates).hasSize(1);
    return rates.get(0);
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
