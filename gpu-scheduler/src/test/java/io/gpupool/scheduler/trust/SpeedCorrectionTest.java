package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.gpupool.scheduler.trust.ChallengeVerdict.SpeedCorrection;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A correct but slow answer re-rates the node at the speed measured instead of quarantining it,
 * unless the mismatch is gross (under the floor) or repeated; a later challenge at the claimed
 * speed restores it.
 */
class SpeedCorrectionTest {
  static final GpuSpec H100 = GpuCatalog.defaults().lookup("NVIDIA-H100-80GB-HBM3", 0, null);
  static final GpuSpec RTX3090 = GpuCatalog.defaults().lookup("NVIDIA-GeForce-RTX-3090", 0, null);
  // Sandbox-like: 1e-8 of the datasheet rate, 3 s of start-up allowance, twice the compute time.
  static final TimingModel TIMING = new TimingModel(1e-8, 2.0, Duration.ofSeconds(3));
  static final Challenge CHALLENGE = new Challenge("0123456789abcdef0123456789abcdef", 64, 64);
  static final String HONEST = ChallengeWork.answer(CHALLENGE);
  static final Duration START = Duration.ofMillis(500);
  static final double FLOOR = 0.25;

  /** Seconds from the pod's creation to the answer of a node at {@code share} of an H100. */
  static Duration answerOfNodeAt(double share) {
    double seconds = TIMING.expectedSeconds(CHALLENGE, H100, 1) / share;
    return START.plusMillis((long) (seconds * 1000));
  }

  static Optional<ChallengeVerdict> judge(
      Optional<String> answer, Duration elapsed, Optional<Duration> running, double rated) {
    return ChallengeVerdict.classify(
        CHALLENGE,
        answer,
        elapsed,
        running,
        H100,
        1,
        TIMING,
        new Random(7),
        4,
        new SpeedCorrection(rated, FLOOR));
  }

  static ChallengeVerdict answered(double share, double rated) {
    return judge(Optional.of(HONEST), answerOfNodeAt(share), Optional.of(START), rated)
        .orElseThrow();
  }

  @Test
  void aNodeSlowerThanItsClaimIsReRatedAtTheMeasuredSpeed() {
    ChallengeVerdict v = answered(0.35, 1.0);
    assertThat(v.outcome()).isEqualTo(Outcome.SLOWER);
    assertThat(v.speedFactor()).isBetween(0.33, 0.35);
    assertThat(v.message())
        .contains("correct but slow")
        .contains("computing at about 3")
        .contains("% of H100-80GB-HBM3");
  }

  @Test
  void withoutCorrectionTheSameAnswerIsTooSlow() {
    ChallengeVerdict v =
        ChallengeVerdict.classify(
                CHALLENGE,
                Optional.of(HONEST),
                answerOfNodeAt(0.35),
                H100,
                1,
                TIMING,
                new Random(7),
                4)
            .orElseThrow();
    assertThat(v.outcome()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(v.speedFactor()).isEqualTo(1.0);
  }

  @Test
  void aGrossMismatchIsFraudNotACorrection() {
    // An RTX 3090 claiming an H100 computes at 7 %: not even an answer by the floor's deadline.
    double share = RTX3090.denseTflops() / H100.denseTflops();
    Duration lastDeadline = TIMING.deadline(CHALLENGE, H100.atSpeed(FLOOR), 1);
    assertThat(judge(Optional.empty(), lastDeadline.minusMillis(1), Optional.of(START), 1.0))
        .as("still waiting for an answer a correctable node could give")
        .isEmpty();
    assertThat(judge(Optional.empty(), lastDeadline.plusMillis(1), Optional.of(START), 1.0))
        .hasValueSatisfying(v -> assertThat(v.outcome()).isEqualTo(Outcome.TOO_SLOW));
    assertThat(answered(share, 1.0).outcome()).isEqualTo(Outcome.TOO_SLOW);
    // A correct answer in time for the floor's deadline but computed under the floor.
    ChallengeVerdict under = answered(0.2, 1.0);
    assertThat(under.outcome()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(under.message()).contains("gross mismatch").contains("20 %");
  }

  @Test
  void aNodeThatHidesItsStartCannotRateItselfFasterThanTheAllowanceGrants() {
    Duration elapsed = answerOfNodeAt(0.35);
    ChallengeVerdict v =
        judge(Optional.of(HONEST), elapsed, Optional.of(elapsed.minusSeconds(1)), 1.0)
            .orElseThrow();
    assertThat(v.outcome()).isEqualTo(Outcome.SLOWER);
    double allowanceBound =
        TIMING.expectedSeconds(CHALLENGE, H100, 1)
            / (elapsed.toMillis() / 1000.0 - TIMING.startupAllowance().toSeconds());
    assertThat(v.speedFactor()).isLessThanOrEqualTo(allowanceBound).isLessThan(0.5);
  }

  @Test
  void aReRatedNodePassesAtItsRatingAndIsRestoredAtItsClaim() {
    ChallengeVerdict atRating = answered(0.35, 0.34);
    assertThat(atRating.outcome()).isEqualTo(Outcome.PASSED);
    assertThat(atRating.speedFactor()).isEqualTo(0.34);
    assertThat(atRating.message()).contains("in time for its corrected rating of 34 %");
    ChallengeVerdict restored = answered(1.0, 0.34);
    assertThat(restored.outcome()).isEqualTo(Outcome.PASSED);
    assertThat(restored.speedFactor()).isEqualTo(1.0);
  }

  @Test
  void aReRatedNodeSlowerAgainThanItsRatingIsARepeatedMismatch() {
    ChallengeVerdict v = answered(0.15, 0.34);
    assertThat(v.outcome()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(v.message()).contains("slower again than its corrected rating of 34 %");
  }

  @Test
  void aWrongAnswerIsFraudHoweverSlow() {
    String wrong = ChallengeWork.answer(new Challenge("f".repeat(32), 64, 64));
    ChallengeVerdict v =
        judge(Optional.of(wrong), answerOfNodeAt(0.35), Optional.of(START), 1.0).orElseThrow();
    assertThat(v.outcome()).isEqualTo(Outcome.WRONG_RESULT);
  }
}
