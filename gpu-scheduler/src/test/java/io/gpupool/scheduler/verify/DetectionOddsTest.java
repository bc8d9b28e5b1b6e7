package io.gpupool.scheduler.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class DetectionOddsTest {

  @Test
  void oneMinusTheChanceOfMissingEveryCheatedInterval() {
    assertThat(DetectionOdds.detection(0.1, 1)).isCloseTo(0.1, within(1e-12));
    assertThat(DetectionOdds.detection(0.1, 10)).isCloseTo(1 - Math.pow(0.9, 10), within(1e-12));
    assertThat(DetectionOdds.detection(1, 1)).isEqualTo(1);
    assertThat(DetectionOdds.detection(0.5, 0)).isZero();
  }

  @Test
  void theReferencesSampleCountsAreReproduced() {
    // trust-and-verification.md: p = 5 % needs 59 / 90 samples for 95 / 99 %.
    assertThat(DetectionOdds.intervalsForConfidence(0.05, 0.95)).isEqualTo(59);
    assertThat(DetectionOdds.intervalsForConfidence(0.05, 0.99)).isEqualTo(90);
    assertThat(DetectionOdds.intervalsForConfidence(0.01, 0.95)).isEqualTo(299);
    assertThat(DetectionOdds.intervalsForConfidence(1, 0.99)).isEqualTo(1);
  }
}
