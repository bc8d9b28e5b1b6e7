package io.gpupool.operator.verification;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.billing.DisputeFiling;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class VerificationMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final VerificationMetrics metrics = new VerificationMetrics(registry);

  private double count(String name, String... tags) {
    return registry.get(name).tags(tags).counter().count();
  }

  @Test
  void checksDisputesAndGpuTimeAreCountedByKindAndOutcome() {
    metrics.checked(VerificationMetrics.TRAINING, "verified");
    metrics.checked(VerificationMetrics.TRAINING, "verified");
    metrics.checked(VerificationMetrics.TRAINING, "provider_at_fault");
    metrics.disputed(VerificationMetrics.TRAINING, DisputeFiling.Outcome.OPENED);
    metrics.gpuSeconds(VerificationMetrics.TRAINING, 12.5);
    metrics.gpuSeconds(VerificationMetrics.TRAINING, 0.5);

    assertThat(count("gpupool.verification.intervals", "kind", "training", "outcome", "verified"))
        .isEqualTo(2);
    assertThat(
            count(
                "gpupool.verification.intervals",
                "kind",
                "training",
                "outcome",
                "provider_at_fault"))
        .isEqualTo(1);
    assertThat(count("gpupool.verification.disputes", "kind", "training", "outcome", "opened"))
        .isEqualTo(1);
    assertThat(count("gpupool.verification.gpu.seconds", "kind", "training")).isEqualTo(13);
  }

  @Test
  void meaninglessGpuTimeIsNotCounted() {
    metrics.gpuSeconds(VerificationMetrics.TRAINING, 1);
    metrics.gpuSeconds(VerificationMetrics.TRAINING, -3);
    metrics.gpuSeconds(VerificationMetrics.TRAINING, Double.NaN);
    metrics.gpuSeconds(VerificationMetrics.TRAINING, Double.POSITIVE_INFINITY);
    assertThat(count("gpupool.verification.gpu.seconds", "kind", "training")).isEqualTo(1);
  }

  @Test
  void trainingSeriesExistAtZeroFromTheStart() {
    metrics.initialize();
    for (String outcome : VerificationMetrics.TRAINING_OUTCOMES) {
      assertThat(count("gpupool.verification.intervals", "kind", "training", "outcome", outcome))
          .isZero();
    }
    assertThat(count("gpupool.verification.disputes", "kind", "training", "outcome", "opened"))
        .isZero();
    assertThat(count("gpupool.verification.gpu.seconds", "kind", "training")).isZero();
  }
}
