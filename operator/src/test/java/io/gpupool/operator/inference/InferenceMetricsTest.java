package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class InferenceMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final InferenceMetrics metrics = new InferenceMetrics(registry);

  private Double gauge(String name, String job) {
    var g = registry.find(name).tags("namespace", "ns", "job", job).gauge();
    return g == null ? null : g.value();
  }

  @Test
  void recordsReplicasLoadAndDecisionsPerJob() {
    metrics.replicas("ns", "a", 4, 3);
    metrics.replicas("ns", "b", 1, 1);
    metrics.load("ns", "a", 30, 3, 8);
    metrics.scaled("ns", "a", InferenceMetrics.UP);
    metrics.scaled("ns", "a", InferenceMetrics.UP);
    metrics.scaled("ns", "a", InferenceMetrics.DOWN);

    assertThat(gauge("gpupool.inference.replicas.desired", "a")).isEqualTo(4.0);
    assertThat(gauge("gpupool.inference.replicas.ready", "a")).isEqualTo(3.0);
    assertThat(gauge("gpupool.inference.replicas.desired", "b")).isEqualTo(1.0);
    assertThat(gauge("gpupool.inference.inflight.requests", "a")).isEqualTo(30.0);
    assertThat(gauge("gpupool.inference.inflight.requests.per.replica", "a")).isEqualTo(10.0);
    assertThat(gauge("gpupool.inference.inflight.requests.target", "a")).isEqualTo(8.0);
    assertThat(
            registry
                .get("gpupool.inference.scale.events")
                .tags("job", "a", "direction", "up")
                .counter()
                .count())
        .isEqualTo(2.0);
    assertThat(
            registry
                .get("gpupool.inference.scale.events")
                .tags("job", "a", "direction", "down")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  @Test
  void aScrapeNobodyAnsweredLeavesNoLoadReading() {
    metrics.load("ns", "a", 12, 2, 8);
    metrics.load("ns", "a", 0, 0, 8);
    assertThat(gauge("gpupool.inference.inflight.requests", "a")).isNull();
    assertThat(gauge("gpupool.inference.inflight.requests.per.replica", "a")).isNull();
    assertThat(gauge("gpupool.inference.inflight.requests.target", "a")).isEqualTo(8.0);
  }

  @Test
  void aDeletedJobsGaugesDisappearOthersStay() {
    metrics.replicas("ns", "a", 2, 2);
    metrics.replicas("ns", "b", 3, 1);
    metrics.load("ns", "a", 4, 2, 8);
    metrics.forget("ns", "a");
    assertThat(gauge("gpupool.inference.replicas.desired", "a")).isNull();
    assertThat(gauge("gpupool.inference.inflight.requests", "a")).isNull();
    assertThat(gauge("gpupool.inference.replicas.desired", "b")).isEqualTo(3.0);
    assertThat(gauge("gpupool.inference.replicas.ready", "b")).isEqualTo(1.0);
  }

  @Test
  void aJobsCountersExistAtZeroFromItsFirstReconcile() {
    assertThat(registry.find("gpupool.inference.scale.events").counters()).isEmpty();
    metrics.replicas("ns", "a", 1, 0);
    for (String direction : new String[] {InferenceMetrics.UP, InferenceMetrics.DOWN}) {
      assertThat(
              registry
                  .get("gpupool.inference.scale.events")
                  .tags("namespace", "ns", "job", "a", "direction", direction)
                  .counter()
                  .count())
          .isZero();
    }
    assertThat(registry.get("gpupool.inference.cache.hits").tags("job", "a").counter().count())
        .isZero();
    assertThat(registry.get("gpupool.inference.cache.misses").tags("job", "a").counter().count())
        .isZero();
    metrics.cache("ns", "a", 2, 1);
    metrics.replicas("ns", "a", 1, 1);
    assertThat(registry.get("gpupool.inference.cache.hits").tags("job", "a").counter().count())
        .isEqualTo(2.0);
  }
}
