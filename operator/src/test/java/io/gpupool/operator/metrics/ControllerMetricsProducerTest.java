package io.gpupool.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControllerMetricsProducerTest {

  @Test
  void reconcilingMoreJobsAddsNoMeters() {
    MeterRegistry registry = new SimpleMeterRegistry();
    Metrics metrics = new ControllerMetricsProducer().controllerMetrics(registry);
    reconcile(metrics, 0, 10);
    int afterTen = registry.getMeters().size();
    reconcile(metrics, 10, 500);
    assertThat(registry.getMeters()).hasSize(afterTen);
    assertThat(registry.getMeters()).allSatisfy(m -> assertThat(m.getId().getTag("name")).isNull());
  }

  @Test
  void theExtensionsDefaultWouldHaveKeptMetersForEveryJob() {
    // what the test above guards against: the per-resource default grows with the jobs
    MeterRegistry registry = new SimpleMeterRegistry();
    Metrics perResource =
        MicrometerMetrics.newPerResourceCollectingMicrometerMetricsBuilder(registry).build();
    reconcile(perResource, 0, 10);
    int afterTen = registry.getMeters().size();
    reconcile(perResource, 10, 500);
    assertThat(registry.getMeters().size()).isGreaterThan(afterTen + 490);
  }

  private static void reconcile(Metrics metrics, int from, int to) {
    for (int i = from; i < to; i++) {
      TrainingJob job = new TrainingJob();
      job.setMetadata(new ObjectMetaBuilder().withName("job-" + i).withNamespace("team").build());
      // the calls that need no registered controller (its queue-size gauge)
      metrics.finishedReconciliation(job, Map.of());
      metrics.failedReconciliation(job, new IllegalStateException("conflict"), Map.of());
    }
  }
}
