package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Answering;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.gpupool.scheduler.trust.ChallengeVerdict.SpeedCorrection;
import io.gpupool.scheduler.trust.ChallengeWork;
import io.gpupool.scheduler.trust.TimingModel;
import io.smallrye.config.WithDefault;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The shipped challenge defaults make speed correction reachable: a node computing at 30-90 % of
 * its claim is never quarantined, and one under about a third of it is re-rated even when its pod
 * starts at once (the start-up allowance is slack a fast-starting node's late compute can hide in).
 * Figures come from {@link GpupoolConfig.Trust.Challenge}'s own defaults, read from its
 * annotations.
 *
 * <p>The verdict depends on the work only through its expected compute time, so the challenge is
 * modelled as one that takes exactly the configured target on the claimed product (the catalog's
 * H100): with the defaults' 240-round cap a real H100's challenge is far shorter (docs/trust.md).
 */
class ChallengeDefaultsTest {
  static final GpuSpec H100 = GpuCatalog.defaults().lookup("NVIDIA-H100-80GB-HBM3", 0, null);
  static final GpuSpec RTX3090 = GpuCatalog.defaults().lookup("NVIDIA-GeForce-RTX-3090", 0, null);
  static final int ROUNDS = 200;
  static final Challenge CHALLENGE = new Challenge("00112233445566778899aabbccddeeff", 8, ROUNDS);
  static final String HONEST = ChallengeWork.answer(CHALLENGE);

  static String shipped(String name) {
    return method(name).getAnnotation(WithDefault.class).value();
  }

  static Method method(String name) {
    try {
      return GpupoolConfig.Trust.Challenge.class.getMethod(name);
    } catch (NoSuchMethodException e) {
      throw new AssertionError(e);
    }
  }

  static double seconds(String method) {
    return Duration.parse("PT" + shipped(method).toUpperCase()).toMillis() / 1000.0;
  }

  static final double TARGET = seconds("target");
  static final double ALLOWANCE = seconds("startupAllowance");
  static final double TOLERANCE = Double.parseDouble(shipped("tolerance"));
  static final double FLOOR = Double.parseDouble(shipped("speedCorrectionFloor"));

  /** The defaults' timing, its efficiency scaled so that the challenge takes TARGET on an H100. */
  static final TimingModel TIMING =
      new TimingModel(
          CHALLENGE.flops() / (TARGET * H100.denseTflops() * 1e12),
          TOLERANCE,
          Duration.ofMillis((long) (ALLOWANCE * 1000)));

  /** The verdict on a node at {@code share} of an H100 whose pod ran after {@code start}. */
  static ChallengeVerdict verdict(double share, double start) {
    Duration running = Duration.ofMillis((long) (start * 1000));
    Duration elapsed =
        running.plusMillis((long) (TIMING.expectedSeconds(CHALLENGE, H100, 1) / share * 1000));
    return ChallengeVerdict.classify(
            CHALLENGE,
            Optional.of(HONEST),
            elapsed,
            Optional.of(running),
            H100,
            1,
            TIMING,
            new Random(3),
            2,
            new SpeedCorrection(1.0, FLOOR))
        .orElseThrow();
  }

  @Test
  void theChallengeModelledTakesTheShippedTarget() {
    assertThat(TIMING.expectedSeconds(CHALLENGE, H100, 1)).isCloseTo(TARGET, within(0.01));
  }

  @Test
  void aLateAnswerCanBeReRatedAtAllWithTheShippedDefaults() {
    assertThat(TARGET * (1 / FLOOR - TOLERANCE))
        .as(
            "target %.0f s × (1 / floor %.2f − tolerance %.2f) against the start-up allowance",
            TARGET, FLOOR, TOLERANCE)
        .isGreaterThan(ALLOWANCE);
  }

  @Test
  void aNodeAtThirtyToNinetyPercentOfItsClaimIsNeverQuarantinedHoweverFastItsPodStarts() {
    for (int percent = 30; percent <= 90; percent += 5) {
      double share = percent / 100.0;
      for (double start : new double[] {0, 2, ALLOWANCE / 2, ALLOWANCE}) {
        ChallengeVerdict v = verdict(share, start);
        assertThat(v.outcome())
            .as("%d %% of an H100, pod running after %.0f s: %s", percent, start, v.message())
            .isIn(Outcome.PASSED, Outcome.SLOWER);
        if (v.outcome() == Outcome.SLOWER) {
          assertThat(v.speedFactor()).as("rated at what it showed").isBetween(share - 0.011, share);
        }
      }
    }
  }

  @Test
  void aNodeAtAThirdOfItsClaimIsReRatedEvenWhenItsPodStartsAtOnce() {
    for (double share : new double[] {0.30, 0.33}) {
      ChallengeVerdict v = verdict(share, 0);
      assertThat(v.outcome()).as(v.message()).isEqualTo(Outcome.SLOWER);
      assertThat(v.speedFactor()).isBetween(share - 0.011, share);
    }
  }

  @Test
  void aLateStartIsNotMistakenForASlowGpu() {
    assertThat(verdict(1.0, ALLOWANCE).outcome()).isEqualTo(Outcome.PASSED);
  }

  @Test
  void anRtx3090PosingAsAnH100StaysAGrossMismatch() {
    double share = RTX3090.denseTflops() / H100.denseTflops();
    ChallengeVerdict v = verdict(share, 0);
    assertThat(v.outcome()).as(v.message()).isEqualTo(Outcome.TOO_SLOW);
  }

  @Test
  void noMeasuredRateShips() {
    // None was measured for the project: every product is timed by the catalog until the pool's
    // operator measures its own (docs/operations.md, "Calibrating challenges").
    assertThat(method("rates").getAnnotation(WithDefault.class)).isNull();
  }

  /**
   * With a measured rate the premise above holds on real GPUs: the shipped sizing gives a
   * calibrated product the whole target (the 240-round most does not apply), so its verdicts are
   * those the tests above model. The rate is illustrative, not a measurement.
   */
  @Test
  void aCalibratedProductIsSizedToTheShippedTargetAndJudgedAsModelled() {
    int size = Integer.parseInt(shipped("size"));
    TimingModel timing =
        new TimingModel(
            Double.parseDouble(shipped("efficiency")),
            TOLERANCE,
            Duration.ofMillis((long) (ALLOWANCE * 1000)),
            MeasuredRatesSetting.read(
                Optional.of(List.of("NVIDIA-H100-80GB-HBM3@" + size + "=1480")), size));
    ChallengeSizing sizing =
        new ChallengeSizing(
            timing,
            size,
            Duration.ofMillis((long) (TARGET * 1000)),
            Answering.of(Boolean.parseBoolean(shipped("openings"))),
            Integer.parseInt(shipped("maxRounds")));
    Challenge c = new Challenge(CHALLENGE.nonce(), size, sizing.rounds(H100, 1));
    assertThat(c.rounds()).isGreaterThan(Integer.parseInt(shipped("maxRounds")));
    assertThat(timing.expectedSeconds(c, H100, 1)).isCloseTo(TARGET, within(0.01));
    for (double[] expected : new double[][] {{1.0, 0}, {0.5, 0}, {0.3, 1}, {0.2, 2}}) {
      double share = expected[0];
      Duration elapsed =
          Duration.ofMillis((long) (timing.expectedSeconds(c, H100, 1) / share * 1000));
      ChallengeVerdict v =
          ChallengeVerdict.classifyOpened(
                  c,
                  Optional.of(Optional.empty()),
                  elapsed,
                  Optional.of(Duration.ZERO),
                  H100,
                  1,
                  timing,
                  new SpeedCorrection(1.0, FLOOR))
              .orElseThrow();
      Outcome outcome =
          expected[1] == 0 ? Outcome.PASSED : expected[1] == 1 ? Outcome.SLOWER : Outcome.TOO_SLOW;
      assertThat(v.outcome())
          .as("%.0f %% of the measured rate: %s", share * 100, v.message())
          .isEqualTo(outcome);
      assertThat(v.message()).contains("the measured 1,480 rounds/s per GPU");
    }
  }

  static org.assertj.core.data.Offset<Double> within(double d) {
    return org.assertj.core.data.Offset.offset(d);
  }
}
