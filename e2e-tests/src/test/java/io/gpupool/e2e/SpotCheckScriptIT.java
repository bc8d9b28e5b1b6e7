package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.verification.VerifierOutput;
import io.gpupool.scheduler.verify.IntervalReport;
import io.gpupool.scheduler.verify.RefereeVerdict;
import io.gpupool.scheduler.verify.SpotCheck;
import io.gpupool.scheduler.verify.StepDistance;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference trainer's commitments, verifier and referee modes (docs/workloads.md,
 * "Commitments") with real torch, judged by the operator's reader and gpu-scheduler's protocol: a
 * two-rank DDP run whose processes skip the optimizer step at step 5 (the sandbox's dishonest
 * provider) replays within float64 noise up to step 4, is bisected to step 5, and the referee
 * blames the provider; the replay leaves the job's checkpoints untouched. Needs python3-torch.
 */
class SpotCheckScriptIT {
  private static final Path WORKLOADS = SandboxCluster.REPO.resolve("examples/workloads");
  private static final double TOLERANCE = 1e-4;

  @TempDir static Path run;

  @BeforeAll
  static void trainWithASkippedStep() throws Exception {
    RealWorkloadsE2E.requireTorch();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    String out =
        python(
            Map.of("GPUPOOL_LOCAL_BATCH_SIZE", "16", "SANDBOX_SKIP_OPTIMIZER_STEPS", "5"),
            RealWorkloadsE2E.TORCHRUN,
            "--redirects",
            "2",
            "--tee",
            "1",
            "--nnodes",
            "1",
            "--nproc_per_node",
            "2",
            "--master_addr",
            "127.0.0.1",
            "--master_port",
            String.valueOf(port),
            WORKLOADS.resolve("ddp_train.py").toString(),
            "--steps",
            "10",
            "--checkpoint-every",
            "5");
    assertThat(out).contains("skips the optimizer step every 5 steps");
  }

  private static String python(Map<String, String> env, String... command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/bin:/bin");
    pb.environment().put("PYTHONPATH", WORKLOADS.toString());
    pb.environment().put("GPUPOOL_CHECKPOINT_URI", run.resolve("ckpt").toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    return output;
  }

  private static String verifier(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(RealWorkloadsE2E.PYTHON);
    command.add(WORKLOADS.resolve("ddp_train.py").toString());
    command.addAll(List.of(args));
    String log = python(Map.of(), command.toArray(String[]::new));
    return VerifierOutput.resultLine(log).orElseThrow(() -> new AssertionError(log));
  }

  private static Map<String, String> checkpointDigests() throws Exception {
    Map<String, String> digests = new TreeMap<>();
    try (Stream<Path> files = Files.list(run.resolve("ckpt"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        digests.put(f.getFileName().toString(), sha256(f));
      }
    }
    return digests;
  }

  private static String sha256(Path f) throws IOException {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void theSkippedStepIsFoundAndTheRefereeBlamesTheProvider() throws Exception {
    Map<String, String> before = checkpointDigests();
    Map<Integer, IntervalReport> reports = VerifierOutput.interval(verifier("--verify", "0:5"));
    assertThat(reports).containsOnlyKeys(0, 1);
    for (IntervalReport r : reports.values()) {
      assertThat(r.commitmentsIntact()).isTrue();
      assertThat(r.distances()).extracting(StepDistance::step).containsExactly(1L, 2L, 3L, 4L, 5L);
      // Honest steps differ by float64 rounding of the gradient sum only.
      assertThat(r.distances().subList(0, 4))
          .allSatisfy(d -> assertThat(d.distance()).isLessThan(1e-12));
      assertThat(r.distances().get(4).distance()).isGreaterThan(1e-3);
      SpotCheck.Judgement j = SpotCheck.judge(r, TOLERANCE);
      assertThat(j.outcome()).isEqualTo(SpotCheck.Outcome.MISMATCH);
      assertThat(j.step()).isEqualTo(5);
    }
    VerifierOutput.RefereeResult ref =
        VerifierOutput.referee(verifier("--verify", "0:5", "--referee", "5", "--rank", "1"));
    assertThat(ref.fromStep()).isEqualTo(4);
    RefereeVerdict verdict =
        RefereeVerdict.decide(ref.step(), ref.toProvider(), ref.toVerifier(), TOLERANCE);
    assertThat(verdict.outcome())
        .as(verdict.message())
        .isEqualTo(RefereeVerdict.Outcome.PROVIDER_AT_FAULT);
    assertThat(checkpointDigests()).as("verification only reads the job's files").isEqualTo(before);
  }

  @Test
  void aStateFileChangedAfterItsCommitmentBreaksTheCommitment() throws Exception {
    Path copy = run.resolve("tampered");
    copyTree(run.resolve("ckpt"), copy);
    Path state = copy.resolve("commitments/rank-0/step-000007.f64");
    byte[] bytes = Files.readAllBytes(state);
    bytes[0] ^= 1;
    Files.write(state, bytes);
    Map<Integer, IntervalReport> reports =
        VerifierOutput.interval(verifier("--verify", "5:10", "--checkpoint-uri", copy.toString()));
    assertThat(SpotCheck.judge(reports.get(0), TOLERANCE).outcome())
        .isEqualTo(SpotCheck.Outcome.BROKEN_COMMITMENT);
    assertThat(reports.get(1).commitmentsIntact()).isTrue();
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      for (Path p : all.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
