package io.gpupool.operator.metrics;

import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The pool as gauges: GPUs by model, region, provider and state [gpupool_pool_gpus], nodes by state
 * [gpupool_pool_nodes], provider reliability [gpupool_provider_reliability_score]. Refreshed every
 * few seconds from the inventory and the ledger (both in memory, so cheap).
 */
@ApplicationScoped
public class PoolMetrics {

  private final NodeInventory inventory;
  private final AllocationLedger ledger;
  private final ProviderDirectory providers;
  private final MultiGauge gpus;
  private final MultiGauge nodes;
  private final MultiGauge reliability;
  private ScheduledExecutorService refresher;

  public PoolMetrics(
      MeterRegistry registry,
      NodeInventory inventory,
      AllocationLedger ledger,
      ProviderDirectory providers) {
    this.inventory = inventory;
    this.ledger = ledger;
    this.providers = providers;
    this.gpus =
        MultiGauge.builder("gpupool.pool.gpus")
            .description("GPUs by model, region, provider and state")
            .register(registry);
    this.nodes =
        MultiGauge.builder("gpupool.pool.nodes")
            .description("GPU nodes by region, provider and state")
            .register(registry);
    this.reliability =
        MultiGauge.builder("gpupool.provider.reliability.score")
            .description("provider reliability score, 0 to 1")
            .register(registry);
  }

  void start(@Observes StartupEvent ignored) {
    refresher = Periodic.daemon("gpupool-pool-metrics");
    // One failed refresh (the provider cache not yet started, a node read mid-update) must not
    // freeze every pool gauge for the operator's lifetime.
    Periodic.every(
        refresher, Duration.ofSeconds(1), Duration.ofSeconds(5), "pool metrics", this::refresh);
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (refresher != null) {
      refresher.shutdownNow();
    }
  }

  /** Recomputes every pool gauge. */
  public void refresh() {
    Map<String, Integer> used = ledger.usedByNode();
    Map<Tags, Double> gpuRows = new HashMap<>();
    Map<Tags, Double> nodeRows = new HashMap<>();
    Map<String, Boolean> seenProviders = new HashMap<>();
    for (GpuNode n : inventory.nodes()) {
      seenProviders.put(n.provider(), true);
      Tags where = Tags.of("region", n.region(), "provider", n.provider());
      // Both states exist for every (region, provider) so that "not ready" reads 0, not no data.
      nodeRows.merge(where.and("state", "ready"), n.ready() ? 1.0 : 0.0, Double::sum);
      nodeRows.merge(where.and("state", "notready"), n.ready() ? 0.0 : 1.0, Double::sum);
      Tags gpu = where.and("model", n.product());
      if (!n.usable()) {
        gpuRows.merge(gpu.and("state", "unhealthy"), (double) n.physicalGpus(), Double::sum);
        continue;
      }
      double perGpu = n.replicasPerGpu();
      double healthy = Math.min(n.physicalGpus(), n.allocatableSlots() / perGpu);
      double allocated = Math.min(healthy, used.getOrDefault(n.name(), 0) / perGpu);
      gpuRows.merge(gpu.and("state", "allocated"), allocated, Double::sum);
      gpuRows.merge(gpu.and("state", "free"), healthy - allocated, Double::sum);
      gpuRows.merge(gpu.and("state", "unhealthy"), n.physicalGpus() - healthy, Double::sum);
    }
    inventory
        .skippedGpuNodes()
        .keySet()
        .forEach(
            name ->
                nodeRows.merge(
                    Tags.of("region", "unknown", "provider", "unknown", "state", "unreadable"),
                    1.0,
                    Double::sum));
    gpus.register(rows(gpuRows), true);
    nodes.register(rows(nodeRows), true);
    List<MultiGauge.Row<?>> scores = new ArrayList<>();
    seenProviders
        .keySet()
        .forEach(
            p -> scores.add(MultiGauge.Row.of(Tags.of("provider", p), providers.reliability(p))));
    reliability.register(scores, true);
  }

  private static List<MultiGauge.Row<?>> rows(Map<Tags, Double> values) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    values.forEach((tags, v) -> rows.add(MultiGauge.Row.of(tags, v)));
    return rows;
  }
}
