package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Answering;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.TimingModel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ChallengeSizingTest {
  static final GpuSpec H100 = GpuCatalog.defaults().lookup("NVIDIA-H100-80GB-HBM3", 0, null);
  static final GpuSpec P100 = GpuCatalog.defaults().lookup("Tesla-P100-PCIE-16GB", 0, null);
  static final TimingModel REAL = new TimingModel(0.4, 1.6, Duration.ofSeconds(60));
  static final Duration TARGET = Duration.ofSeconds(45);

  static ChallengeSizing sizing(Answering answering, int maxRounds) {
    return new ChallengeSizing(REAL, 512, TARGET, answering, maxRounds);
  }

  @Test
  void committedChallengesAreSizedToTheTargetUpToTheConfiguredMost() {
    assertThat(sizing(Answering.COMMIT_THEN_OPEN, Challenge.MAX_COMMITTED_ROUNDS).rounds(H100, 1))
        .isEqualTo(66_317_618);
    assertThat(sizing(Answering.COMMIT_THEN_OPEN, 1_000_000).rounds(P100, 1)).isEqualTo(1_000_000);
    assertThat(sizing(Answering.COMMIT_THEN_OPEN, 240).rounds(H100, 1)).isEqualTo(240);
  }

  @Test
  void aTerminationMessageAnswerStaysAt240WhateverTheMost() {
    assertThat(sizing(Answering.TERMINATION_MESSAGE, 1_000_000).rounds(H100, 8)).isEqualTo(240);
  }

  @Test
  void aProductWithAMeasuredRateIsSizedToTheTargetAtItWhateverTheMost() {
    // An illustrative rate, not a measurement: 1,480 rounds/s of 512² per H100.
    TimingModel calibrated =
        new TimingModel(
            0.4,
            1.6,
            Duration.ofSeconds(60),
            MeasuredRatesSetting.read(Optional.of(List.of("NVIDIA-H100-80GB-HBM3@512=1480")), 512));
    ChallengeSizing sizing =
        new ChallengeSizing(calibrated, 512, TARGET, Answering.COMMIT_THEN_OPEN, 240);
    assertThat(sizing.rounds(H100, 1)).isEqualTo(66_600);
    assertThat(sizing.rounds(H100, 8)).isEqualTo(532_800);
    // An uncalibrated product keeps the configured most.
    assertThat(sizing.rounds(P100, 1)).isEqualTo(240);
    // A termination message carries 240 digests, measured rate or not.
    assertThat(
            new ChallengeSizing(calibrated, 512, TARGET, Answering.TERMINATION_MESSAGE, 240)
                .rounds(H100, 8))
        .isEqualTo(240);
  }

  @Test
  void malformedRatesAreRefusedAtStartNamingTheSetting() {
    assertThat(MeasuredRatesSetting.read(Optional.empty(), 512).isEmpty()).isTrue();
    assertThatThrownBy(
            () ->
                MeasuredRatesSetting.read(Optional.of(List.of("NVIDIA-H100-80GB-HBM3@512=0")), 512))
        .hasMessageStartingWith("gpupool.trust.challenge.rates: 'NVIDIA-H100-80GB-HBM3@512=0'")
        .hasMessageContaining("above 0");
    assertThatThrownBy(
            () -> MeasuredRatesSetting.read(Optional.of(List.of("NVIDIA-H100-80GB-HBM3:512")), 512))
        .hasMessageContaining("is not PRODUCT@SIZE=ROUNDS_PER_SECOND");
    assertThatThrownBy(
            () ->
                MeasuredRatesSetting.read(
                    Optional.of(List.of("NVIDIA-H100-80GB-HBM3@1024=400")), 512))
        .hasMessage(
            "gpupool.trust.challenge.rates: NVIDIA-H100-80GB-HBM3@1024=400 was measured at size"
                + " 1024, but challenges are of size 512 (gpupool.trust.challenge.size): measure it"
                + " again with challenge.py --bench 512");
  }

  @Test
  void aMostOutsideTheBoundsIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> sizing(Answering.COMMIT_THEN_OPEN, 0))
        .hasMessageContaining("gpupool.trust.challenge.max-rounds must be 1..67108864, was 0");
    assertThatThrownBy(() -> sizing(Answering.COMMIT_THEN_OPEN, Challenge.MAX_COMMITTED_ROUNDS + 1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
