package io.gpupool.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class JobMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final JobMetrics metrics = new JobMetrics(registry);

  private double jobs(String kind, String phase) {
    return registry.get("gpupool.jobs").tags("kind", kind, "phase", phase).gauge().value();
  }

  @Test
  void everyPhaseOfBothKindsIsExportedAtZeroBeforeAnyJob() {
    assertThat(jobs("TrainingJob", "Failed")).isZero();
    assertThat(jobs("TrainingJob", "Suspended")).isZero();
    assertThat(jobs("InferenceJob", "Degraded")).isZero();
    assertThat(registry.get("gpupool.jobs").gauges()).hasSize(12);
  }

  @Test
  void phasesCountJobsAndDropBackToZero() {
    metrics.phase("TrainingJob", "ml", "a", "Running");
    metrics.phase("TrainingJob", "ml", "b", "Running");
    metrics.phase("InferenceJob", "ml", "c", "Serving");
    assertThat(jobs("TrainingJob", "Running")).isEqualTo(2);
    assertThat(jobs("InferenceJob", "Serving")).isEqualTo(1);

    metrics.phase("TrainingJob", "ml", "a", "Failed");
    metrics.phase("TrainingJob", "ml", "b", null);
    assertThat(jobs("TrainingJob", "Running")).isZero();
    assertThat(jobs("TrainingJob", "Failed")).isEqualTo(1);
  }

  @Test
  void aPhaseRecordedAgainAtEveryReconcileCountsTheJobOnce() {
    for (int i = 0; i < 3; i++) {
      metrics.phase("TrainingJob", "ml", "a", "Pending");
    }
    metrics.phase("TrainingJob", "ml", "a", "Running");
    metrics.phase("TrainingJob", "ml", "a", "Running");
    metrics.phase("TrainingJob", "ml", "gone", null);
    assertThat(jobs("TrainingJob", "Pending")).isZero();
    assertThat(jobs("TrainingJob", "Running")).isEqualTo(1);
    assertThat(registry.get("gpupool.jobs").gauges()).hasSize(12);
  }

  @Test
  void eachJobsEstimatedThroughputIsOneSeriesUntilTheJobIsForgotten() {
    metrics.phase("TrainingJob", "ml", "a", "Running");
    metrics.estimatedThroughput("TrainingJob", "ml", "a", 10);
    metrics.estimatedThroughput("TrainingJob", "ml", "a", 12.5);
    metrics.estimatedThroughput("TrainingJob", "ml", "b", 3);
    assertThat(
            registry
                .get("gpupool.job.estimated.throughput")
                .tags("namespace", "ml", "job", "a")
                .gauge()
                .value())
        .isEqualTo(12.5);
    assertThat(registry.get("gpupool.job.estimated.throughput").gauges()).hasSize(2);

    metrics.phase("TrainingJob", "ml", "a", null);
    assertThat(registry.find("gpupool.job.estimated.throughput").tag("job", "a").gauges())
        .isEmpty();
    assertThat(registry.get("gpupool.job.estimated.throughput").gauges()).hasSize(1);
  }

  @Test
  void reconcileErrorsExistAtZeroAndCountThrows() {
    metrics.reconcile("trainingjob", () -> "ok");
    assertThat(
            registry
                .get("gpupool.reconcile.errors")
                .tag("controller", "trainingjob")
                .counter()
                .count())
        .isZero();
    assertThatThrownBy(
            () ->
                metrics.reconcile(
                    "trainingjob",
                    () -> {
                      throw new IllegalStateException("boom");
                    }))
        .hasMessage("boom");
    assertThat(
            registry
                .get("gpupool.reconcile.errors")
                .tag("controller", "trainingjob")
                .counter()
                .count())
        .isEqualTo(1);
    assertThat(
            registry
                .get("gpupool.reconcile.duration")
                .tag("controller", "trainingjob")
                .timer()
                .count())
        .isEqualTo(2);
  }

  @Test
  void countersAndHistogramsOfKnownLabelsExistAtZeroSoTheFirstEventShowsInIncrease() {
    assertThat(registry.get("gpupool.job.recoveries").tag("kind", "TrainingJob").counter().count())
        .isZero();
    assertThat(registry.get("gpupool.job.recoveries").tag("kind", "InferenceJob").counter().count())
        .isZero();
    assertThat(
            registry
                .get("gpupool.job.restarts")
                .tags("kind", "TrainingJob", "reason", "Rescheduled")
                .counter()
                .count())
        .isZero();
    assertThat(registry.get("gpupool.job.queue.wait").tag("kind", "InferenceJob").timer().count())
        .isZero();
    assertThat(
            registry
                .get("gpupool.scheduling.latency")
                .tags("kind", "TrainingJob", "result", "unschedulable")
                .timer()
                .count())
        .isZero();

    metrics.recovery("TrainingJob");
    assertThat(registry.get("gpupool.job.recoveries").tag("kind", "TrainingJob").counter().count())
        .isEqualTo(1);
  }
}
