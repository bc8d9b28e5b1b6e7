package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ChallengeVerdictTest {
  static final GpuCatalog CATALOG = GpuCatalog.defaults();
  static final GpuSpec H100 = CATALOG.lookup("NVIDIA-H100-80GB-HBM3", 0, null);
  static final GpuSpec RTX3090 = CATALOG.lookup("NVIDIA-GeForce-RTX-3090", 0, null);
  // A sandbox-like calibration: simulated GPUs at 1e-8 of their datasheet rate, so a challenge the
  // checker recomputes in milliseconds takes seconds.
  static final TimingModel TIMING = new TimingModel(1e-8, 2.0, Duration.ofSeconds(3));
  static final Challenge CHALLENGE = new Challenge("0123456789abcdef0123456789abcdef", 64, 64);
  static final String HONEST = ChallengeWork.answer(CHALLENGE);

  static Duration answeredBy(GpuSpec real, int gpus) {
    double seconds = TIMING.expectedSeconds(CHALLENGE, real, gpus);
    return Duration.ofMillis(500 + (long) (seconds * 1000)); // half a second to start
  }

  static Optional<ChallengeVerdict> classify(Optional<String> answer, Duration elapsed, int gpus) {
    return ChallengeVerdict.classify(
        CHALLENGE, answer, elapsed, H100, gpus, TIMING, new Random(7), 4);
  }

  @Test
  void anHonestH100Passes() {
    ChallengeVerdict v = classify(Optional.of(HONEST), answeredBy(H100, 2), 2).orElseThrow();
    assertThat(v.outcome()).isEqualTo(Outcome.PASSED);
    assertThat(v.message()).contains("correct answer after").contains("H100-80GB-HBM3");
  }

  @Test
  void aSlowHonest3090ClaimingH100IsCaught() {
    Duration elapsed = answeredBy(RTX3090, 2);
    ChallengeVerdict v = classify(Optional.of(HONEST), elapsed, 2).orElseThrow();
    assertThat(v.outcome()).isEqualTo(Outcome.TOO_SLOW);
    // It measures about what an RTX 3090 does (71 TFLOP/s), far under an H100's 989.
    assertThat(v.message()).contains("correct but slow").contains("TFLOP/s per GPU");
    double measured = TIMING.measuredTflops(CHALLENGE, elapsed, 2);
    assertThat(measured).isBetween(50.0, 75.0);
  }

  @Test
  void aSlowNodeIsTooSlowOnceItsDeadlinePassesWithoutAnAnswer() {
    Duration deadline = TIMING.deadline(CHALLENGE, H100, 1);
    assertThat(classify(Optional.empty(), deadline.minusMillis(1), 1)).isEmpty();
    ChallengeVerdict v = classify(Optional.empty(), deadline.plusMillis(1), 1).orElseThrow();
    assertThat(v.outcome()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(v.message()).startsWith("no answer after");
  }

  @Test
  void aWrongAnswerIsCaughtHoweverFastItCame() {
    String wrong = HONEST.substring(0, HONEST.length() - 1) + (HONEST.endsWith("0") ? "1" : "0");
    // Only the last round is wrong: sampling every round finds it.
    Optional<ChallengeVerdict> v =
        ChallengeVerdict.classify(
            CHALLENGE,
            Optional.of(wrong),
            Duration.ofSeconds(1),
            H100,
            1,
            TIMING,
            new Random(1),
            CHALLENGE.rounds());
    assertThat(v.orElseThrow().outcome()).isEqualTo(Outcome.WRONG_RESULT);
    assertThat(v.orElseThrow().message()).contains("round 63 of 64");
  }

  @Test
  void malformedAnswersAreWrongResults() {
    for (String bad : new String[] {"", "zz", HONEST + "00", HONEST.toUpperCase()}) {
      ChallengeVerdict v = classify(Optional.of(bad), Duration.ofSeconds(1), 1).orElseThrow();
      assertThat(v.outcome()).as(bad).isEqualTo(Outcome.WRONG_RESULT);
      assertThat(v.message()).contains("malformed answer");
    }
  }

  @Test
  void skippingHalfTheRoundsIsCaughtAlmostAlways() {
    // A node that computes only every other round (to look twice as fast) and makes up the rest.
    StringBuilder half = new StringBuilder(HONEST);
    for (int r = 1; r < CHALLENGE.rounds(); r += 2) {
      half.replace(r * 16, r * 16 + 16, "0123456789abcdef");
    }
    Random random = new Random(42);
    int caught = 0;
    for (int i = 0; i < 200; i++) {
      if (ChallengeCheck.problem(CHALLENGE, half.toString(), random, 8).isPresent()) {
        caught++;
      }
    }
    // Escape chance per challenge is about 0.5^8 ≈ 0.4 %.
    assertThat(caught).isGreaterThanOrEqualTo(195);
  }

  @Test
  void samplesAreDistinctRounds() {
    assertThat(ChallengeCheck.pick(10, 10, new Random(3))).doesNotHaveDuplicates().hasSize(10);
    assertThat(ChallengeCheck.pick(10, 50, new Random(3))).hasSize(10);
    assertThat(ChallengeCheck.pick(10, 0, new Random(3))).hasSize(1);
  }

  @Test
  void roundsAreSizedToTheClaimedProduct() {
    Duration target = Duration.ofSeconds(2);
    int h100 = TIMING.roundsFor(64, H100, 4, target, Answering.TERMINATION_MESSAGE);
    int rtx3090 = TIMING.roundsFor(64, RTX3090, 4, target, Answering.TERMINATION_MESSAGE);
    // 4 × 989 TFLOP/s at 1e-8 for 2 s over 2·64³ FLOPs a round.
    assertThat(h100).isEqualTo(151);
    assertThat(rtx3090).isEqualTo(11);
    Challenge c = new Challenge(CHALLENGE.nonce(), 64, h100);
    assertThat(TIMING.expectedSeconds(c, H100, 4)).isBetween(2.0, 2.02);
    // The bounds of each way of answering: ChallengeRoundsTest.
  }
}
