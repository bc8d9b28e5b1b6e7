package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.gpupool.scheduler.trust.ChallengeVerdict.SpeedCorrection;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A product whose challenge-program rate the operator measured is sized and timed by that rate, not
 * by its catalog TFLOP/s; a product without one is timed by the catalog as before.
 *
 * <p>The rates here are illustrative, not measurements (no GPU figures were measured for the
 * project): an H100 at 1,480 rounds/s of 512², an A100 at 490 (a third of it) and an RTX 3090 at
 * 296 (a fifth). Each node is modelled answering at its own measured rate; the answers are correct
 * commitments (their openings checked), so only the timing decides.
 */
class MeasuredRateVerdictTest {
  static final GpuCatalog CATALOG = GpuCatalog.defaults();
  static final GpuSpec H100 = CATALOG.lookup("NVIDIA-H100-80GB-HBM3", 0, null);
  static final GpuSpec L40S = CATALOG.lookup("NVIDIA-L40S", 0, null);
  static final MeasuredRate H100_RATE = new MeasuredRate("NVIDIA-H100-80GB-HBM3", 512, 1480);
  static final MeasuredRate A100_RATE = new MeasuredRate("NVIDIA-A100-SXM4-80GB", 512, 490);
  static final MeasuredRate RTX3090_RATE = new MeasuredRate("NVIDIA-GeForce-RTX-3090", 512, 296);
  static final MeasuredRates RATES = MeasuredRates.of(List.of(H100_RATE, A100_RATE, RTX3090_RATE));
  // The shipped defaults: efficiency 0.4, tolerance 1.6, 60 s to start, 45 s target, floor 0.25.
  static final TimingModel TIMING = new TimingModel(0.4, 1.6, Duration.ofSeconds(60), RATES);
  static final TimingModel CATALOG_ONLY = new TimingModel(0.4, 1.6, Duration.ofSeconds(60));
  static final Duration TARGET = Duration.ofSeconds(45);
  static final Duration START = Duration.ofSeconds(5);
  static final String NONCE = "0123456789abcdef0123456789abcdef";

  /** A committed challenge sized by {@code timing} for {@code gpus} H100s. */
  static Challenge sizedForH100(TimingModel timing, int gpus) {
    int rounds = timing.roundsFor(512, H100, gpus, TARGET, Answering.COMMIT_THEN_OPEN);
    return new Challenge(NONCE, 512, rounds);
  }

  /**
   * The verdict on {@code gpus} GPUs that really run at {@code real} rounds/s each, claiming H100.
   */
  static ChallengeVerdict claimingH100(
      TimingModel timing, Challenge c, double real, int gpus, double rated) {
    Duration elapsed = START.plusMillis((long) (c.rounds() / (gpus * real) * 1000));
    return ChallengeVerdict.classifyOpened(
            c,
            Optional.of(Optional.empty()),
            elapsed,
            Optional.of(START),
            H100,
            gpus,
            timing,
            new SpeedCorrection(rated, 0.25))
        .orElseThrow();
  }

  @Test
  void roundsAreSizedToTheTargetAtTheMeasuredRateUpToWhatTheAnswerCarries() {
    assertThat(TIMING.roundsFor(512, H100, 1, TARGET, Answering.COMMIT_THEN_OPEN))
        .isEqualTo(66_600);
    assertThat(TIMING.roundsFor(512, H100, 8, TARGET, Answering.COMMIT_THEN_OPEN))
        .isEqualTo(532_800);
    assertThat(TIMING.roundsFor(512, H100, 8, TARGET, Answering.TERMINATION_MESSAGE))
        .isEqualTo(240);
    // A rate measured at 512 says nothing of 1024: the catalog sizes that.
    assertThat(TIMING.rate(H100, 1024).measured()).isFalse();
    assertThat(TIMING.roundsFor(1024, H100, 1, TARGET, Answering.COMMIT_THEN_OPEN))
        .isEqualTo(CATALOG_ONLY.roundsFor(1024, H100, 1, TARGET, Answering.COMMIT_THEN_OPEN));
  }

  @Test
  void anHonestH100AtItsMeasuredRatePassesAndTheMessageSaysWhatItWasTimedBy() {
    for (int gpus : new int[] {1, 8}) {
      Challenge c = sizedForH100(TIMING, gpus);
      assertThat(TIMING.expectedSeconds(c, H100, gpus)).isBetween(45.0, 45.001);
      ChallengeVerdict v = claimingH100(TIMING, c, H100_RATE.roundsPerSecond(), gpus, 1.0);
      assertThat(v.outcome()).as(v.message()).isEqualTo(Outcome.PASSED);
      assertThat(v.message())
          .contains(
              "needs about 45.0 s of compute at the measured 1,480 rounds/s per GPU of"
                  + " NVIDIA-H100-80GB-HBM3 at size 512, answer due within 132.0 s");
    }
  }

  @Test
  void theSameHonestH100TimedByTheCatalogIsLate() {
    // What calibration fixes: sized by 989 TFLOP/s × 0.4, its 66 million rounds take it 12 hours.
    Challenge c = sizedForH100(CATALOG_ONLY, 1);
    ChallengeVerdict v = claimingH100(CATALOG_ONLY, c, H100_RATE.roundsPerSecond(), 1, 1.0);
    assertThat(v.outcome()).as(v.message()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(v.message())
        .contains("the catalog's 989 TFLOP/s of H100-80GB-HBM3 at efficiency 0.4");
  }

  @Test
  void anRtx3090AtItsOwnMeasuredRateClaimingH100IsTooSlow() {
    Challenge c = sizedForH100(TIMING, 2);
    ChallengeVerdict v = claimingH100(TIMING, c, RTX3090_RATE.roundsPerSecond(), 2, 1.0);
    assertThat(v.outcome()).as(v.message()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(v.message())
        .contains("computing at about 20 % of H100-80GB-HBM3")
        .contains("a gross mismatch")
        .contains("at the measured 1,480 rounds/s per GPU of NVIDIA-H100-80GB-HBM3 at size 512");
  }

  @Test
  void aNearNeighbourIsReRatedAtItsShareOfTheMeasuredRateNotOfTheCatalogs() {
    Challenge c = sizedForH100(TIMING, 1);
    ChallengeVerdict v = claimingH100(TIMING, c, A100_RATE.roundsPerSecond(), 1, 1.0);
    assertThat(v.outcome()).as(v.message()).isEqualTo(Outcome.SLOWER);
    // 490 / 1480 = 0.331, rounded down; the catalog's 312 / 989 would be 0.31.
    assertThat(v.speedFactor()).isEqualTo(0.33);
    // Re-rated, its next challenge is due by the deadline at that share of the measured rate.
    ChallengeVerdict next = claimingH100(TIMING, c, A100_RATE.roundsPerSecond(), 1, 0.33);
    assertThat(next.outcome()).as(next.message()).isEqualTo(Outcome.PASSED);
    assertThat(next.speedFactor()).isEqualTo(0.33);
  }

  @Test
  void noAnswerByTheFloorsDeadlineAtTheMeasuredRateIsTooSlow() {
    Challenge c = sizedForH100(TIMING, 1);
    // 45 s at a quarter of the rate is 180 s, × 1.6 and 60 s to start: 348 s.
    Duration last = Duration.ofSeconds(348);
    SpeedCorrection speed = new SpeedCorrection(1.0, 0.25);
    assertThat(
            ChallengeVerdict.classifyOpened(
                c, Optional.empty(), last, Optional.empty(), H100, 1, TIMING, speed))
        .isEmpty();
    ChallengeVerdict v =
        ChallengeVerdict.classifyOpened(
                c, Optional.empty(), last.plusMillis(1), Optional.empty(), H100, 1, TIMING, speed)
            .orElseThrow();
    assertThat(v.outcome()).isEqualTo(Outcome.TOO_SLOW);
    assertThat(v.message()).startsWith("no answer after 348.0 s");
  }

  @Test
  void aProductWithoutAMeasuredRateIsTimedByTheCatalogAsBefore() {
    Challenge c = new Challenge(NONCE, 512, 240);
    assertThat(TIMING.rate(L40S, 512)).isEqualTo(CATALOG_ONLY.rate(L40S, 512));
    assertThat(TIMING.rate(L40S, 512).measured()).isFalse();
    assertThat(TIMING.deadline(c, L40S, 4)).isEqualTo(CATALOG_ONLY.deadline(c, L40S, 4));
    assertThat(TIMING.expectedSeconds(c, L40S, 4))
        .isEqualTo(c.flops() / (4 * L40S.denseTflops() * 1e12 * 0.4));
    assertThat(TIMING.rate(L40S, 512).basis())
        .isEqualTo(
            "the catalog's 362 TFLOP/s of L40S at efficiency 0.4 (no rate measured at size 512)");
  }
}
