package io.gpupool.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.queue.QueueUsage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KeptGaugesTest {

  /** Counts registrations: a round must not go through the registry for a row it already has. */
  private final List<Meter.Id> added = new ArrayList<>();

  private final MeterRegistry registry = new SimpleMeterRegistry();

  KeptGaugesTest() {
    registry.config().onMeterAdded(m -> added.add(m.getId()));
  }

  @Test
  void roundsUpdateTheQueueGaugesInPlaceAndDropAQueueThatWentAway() {
    QueueMetrics metrics = new QueueMetrics(registry);
    metrics.usage(
        List.of(
            new QueueUsage("team-a", 3, 1, Map.of("h100", 8), Map.of(), 0.1),
            new QueueUsage("team-b", 0, 2, Map.of("a100", 4), Map.of("a100", 2), 0.2)));
    int registered = added.size();
    Gauge inUseA = gauge("gpupool.queue.gpus.in.use", "team-a", "h100");
    assertThat(inUseA.value()).isEqualTo(8);

    for (int round = 0; round < 100; round++) {
      metrics.usage(
          List.of(
              new QueueUsage("team-a", 2, 2, Map.of("h100", 16), Map.of(), 0.1),
              new QueueUsage("team-b", round, 2, Map.of("a100", 4), Map.of("a100", 2), 0.2)));
    }
    assertThat(added).as("no meter registered again").hasSize(registered);
    assertThat(gauge("gpupool.queue.gpus.in.use", "team-a", "h100")).isSameAs(inUseA);
    assertThat(inUseA.value()).isEqualTo(16);
    assertThat(
            registry.get("gpupool.queue.pending.workloads").tag("queue", "team-b").gauge().value())
        .isEqualTo(99);

    metrics.usage(List.of(new QueueUsage("team-a", 0, 0, Map.of(), Map.of(), 0)));
    assertThat(registry.find("gpupool.queue.pending.workloads").tag("queue", "team-b").gauges())
        .isEmpty();
    assertThat(registry.find("gpupool.queue.gpus.in.use").gauges()).as("no GPUs in use").isEmpty();
    assertThat(
            registry.get("gpupool.queue.admitted.workloads").tag("queue", "team-a").gauge().value())
        .isZero();
  }

  @Test
  void theOldestPendingGaugeKeepsItsUnit() {
    QueueMetrics metrics = new QueueMetrics(registry);
    metrics.oldestPending(Map.of("team-a", 1_765_000_000L));
    Gauge g = registry.get("gpupool.queue.oldest.pending.created").tag("queue", "team-a").gauge();
    assertThat(g.value()).isEqualTo(1_765_000_000d);
    assertThat(g.getId().getBaseUnit()).isEqualTo("seconds");
    metrics.oldestPending(Map.of());
    assertThat(registry.find("gpupool.queue.oldest.pending.created").gauges()).isEmpty();
  }

  private Gauge gauge(String name, String queue, String flavor) {
    return registry.get(name).tag("queue", queue).tag("flavor", flavor).gauge();
  }
}
