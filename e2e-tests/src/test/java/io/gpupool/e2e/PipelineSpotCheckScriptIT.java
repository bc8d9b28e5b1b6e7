package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.verification.VerifierOutput;
import io.gpupool.scheduler.verify.IntervalReport;
import io.gpupool.scheduler.verify.RefereeVerdict;
import io.gpupool.scheduler.verify.SpotCheck;
import io.gpupool.scheduler.verify.StepDistance;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pipeline-parallel commitments with real torch (docs/workloads.md, "Commitments"): two stages of
 * pipeline_train.py (layers 0..2 and 3..7) as two processes, the last stage's provider skipping
 * every 7th optimizer step. Each stage commits its own layer range; the verifier replays the whole
 * pipeline from the stages' committed states and judges each stage's range: honest steps replay
 * exactly, the skipped step shows on the cheating stage first and on the other stage one step
 * later, the operator's choice referees the cheating stage, and the referee blames it. The other
 * stage's later step, refereed from the committed states, is cleared: why the first mismatch is the
 * one refereed. Needs python3-torch.
 */
class PipelineSpotCheckScriptIT {
  private static final Path WORKLOADS = SandboxCluster.REPO.resolve("examples/workloads");
  private static final double TOLERANCE = 1e-4;

  @TempDir static Path run;

  @BeforeAll
  static void trainTwoStagesTheLastSkippingEverySeventhStep() throws Exception {
    RealWorkloadsE2E.requireTorch();
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Process first = stage(port, 0, 0, 2, Map.of());
    Process last = stage(port, 1, 3, 7, Map.of("SANDBOX_SKIP_OPTIMIZER_STEPS", "7"));
    String firstLog = finished(first, 0);
    String lastLog = finished(last, 1);
    assertThat(lastLog).contains("skips the optimizer step every 7 steps");
    assertThat(firstLog)
        .contains("GPUPOOL-CHECKPOINT {\"step\": 10}")
        .contains("GPUPOOL-CHECKPOINT {\"step\": 20}");
    assertThat(run.resolve("ckpt/step-000010-stage-1.pt")).exists();
  }

  /** One stage as its own process, joined over TCP as two pods' torchrun agents would. */
  private static Process stage(int port, int index, int first, int last, Map<String, String> env)
      throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                RealWorkloadsE2E.PYTHON,
                WORKLOADS.resolve("pipeline_train.py").toString(),
                "--steps",
                "20",
                "--checkpoint-every",
                "10")
            .redirectErrorStream(true)
            .redirectOutput(run.resolve("stage-" + index + ".log").toFile());
    Map<String, String> e = pb.environment();
    e.clear();
    e.put("PATH", "/usr/bin:/bin");
    e.put("PYTHONPATH", WORKLOADS.toString());
    e.put("MASTER_ADDR", "127.0.0.1");
    e.put("MASTER_PORT", Integer.toString(port));
    e.put("WORLD_SIZE", "2");
    e.put("RANK", Integer.toString(index));
    e.put("GPUPOOL_STAGE_INDEX", Integer.toString(index));
    e.put("GPUPOOL_STAGE_COUNT", "2");
    e.put("GPUPOOL_FIRST_LAYER", Integer.toString(first));
    e.put("GPUPOOL_LAST_LAYER", Integer.toString(last));
    e.put("GPUPOOL_LOCAL_BATCH_SIZE", "16");
    e.put("GPUPOOL_CHECKPOINT_URI", run.resolve("ckpt").toString());
    e.putAll(env);
    return pb.start();
  }

  private static String finished(Process p, int index) throws Exception {
    boolean done = p.waitFor(120, TimeUnit.SECONDS);
    String log = Files.readString(run.resolve("stage-" + index + ".log"));
    if (!done) {
      p.destroyForcibly();
    }
    assertThat(done).as("stage %d ended: %s", index, log).isTrue();
    assertThat(p.exitValue()).as(log).isZero();
    return log;
  }

  private static String verifier(String... args) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(RealWorkloadsE2E.PYTHON);
    command.add(WORKLOADS.resolve("pipeline_train.py").toString());
    command.addAll(List.of(args));
    command.addAll(List.of("--checkpoint-uri", run.resolve("ckpt").toString()));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/bin:/bin");
    pb.environment().put("PYTHONPATH", WORKLOADS.toString());
    Process p = pb.start();
    String log = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(log).isZero();
    return VerifierOutput.resultLine(log).orElseThrow(() -> new AssertionError(log));
  }

  private static RefereeVerdict referee(int step, int stage, double tolerance) throws Exception {
    VerifierOutput.RefereeResult r =
        VerifierOutput.referee(
            verifier(
                "--verify", "0:10", "--referee", Integer.toString(step), "--rank", "" + stage));
    assertThat(r.step()).isEqualTo(step);
    assertThat(r.fromStep()).isEqualTo(step - 1);
    return RefereeVerdict.decide(r.step(), r.toProvider(), r.toVerifier(), tolerance);
  }

  @Test
  void theStageThatSkippedAStepIsRefereedAndBlamedItsNeighbourIsNot() throws Exception {
    Map<Integer, IntervalReport> reports = VerifierOutput.interval(verifier("--verify", "0:10"));
    assertThat(reports).containsOnlyKeys(0, 1);
    for (IntervalReport r : reports.values()) {
      assertThat(r.commitmentsIntact()).isTrue();
      assertThat(r.distances()).extracting(StepDistance::step).hasSize(10);
      // Before the skipped step the one-process replay is the pipeline's computation exactly.
      assertThat(r.distances().subList(0, 6)).allSatisfy(d -> assertThat(d.distance()).isZero());
    }
    double skipped = reports.get(1).distances().get(6).distance();
    double neighbour = reports.get(0).distances().get(7).distance();
    System.out.printf(
        "pipeline: stage 1 at step 7 %.3g from the replay, stage 0 at step 8 %.3g%n",
        skipped, neighbour);
    assertThat(skipped).isGreaterThan(TOLERANCE);
    assertThat(reports.get(0).distances().get(6).distance()).as("stage 0 at step 7").isZero();
    assertThat(neighbour).as("stage 0 at step 8 trained with stage 1's wrong layers").isPositive();

    // A tolerance below the neighbour's drift shows why the first mismatch is refereed: both
    // stages mismatch, stage 1 first.
    double tight = neighbour / 10;
    Map<Integer, SpotCheck.Judgement> judged = new TreeMap<>();
    reports.forEach((stage, r) -> judged.put(stage, SpotCheck.judge(r, tight)));
    assertThat(judged.get(0).outcome()).isEqualTo(SpotCheck.Outcome.MISMATCH);
    assertThat(judged.get(0).step()).isEqualTo(8);
    assertThat(judged.get(1).step()).isEqualTo(7);
    assertThat(SpotCheck.firstMismatch(judged)).hasValue(1);

    RefereeVerdict cheat = referee(7, 1, tight);
    assertThat(cheat.outcome())
        .as(cheat.message())
        .isEqualTo(RefereeVerdict.Outcome.PROVIDER_AT_FAULT);
    // Stage 0 computed step 8 honestly on what it was given: refereed from the committed states
    // at step 7 (stage 1's already wrong) it agrees with its commitment, not with the replay.
    RefereeVerdict cleared = referee(8, 0, tight);
    assertThat(cleared.outcome())
        .as(cleared.message())
        .isEqualTo(RefereeVerdict.Outcome.VERIFIER_AT_FAULT);
  }

  @Test
  void anIntervalIsReplayedFromTheStagesCommittedStatesAtItsStart() throws Exception {
    Map<Integer, IntervalReport> reports = VerifierOutput.interval(verifier("--verify", "10:20"));
    IntervalReport last = reports.get(1);
    assertThat(last.distances()).extracting(StepDistance::step).startsWith(11L, 12L, 13L, 14L);
    assertThat(last.distances().subList(0, 3)).allSatisfy(d -> assertThat(d.distance()).isZero());
    SpotCheck.Judgement j = SpotCheck.judge(last, TOLERANCE);
    assertThat(j.outcome()).isEqualTo(SpotCheck.Outcome.MISMATCH);
    assertThat(j.step()).as("the next skipped step").isEqualTo(14);
  }
}
