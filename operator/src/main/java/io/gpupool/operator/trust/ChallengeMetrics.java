package io.gpupool.operator.trust;

import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Challenges by provider and outcome [gpupool_challenges_total] and quarantined nodes by provider
 * [gpupool_quarantined_nodes].
 */
@ApplicationScoped
public class ChallengeMetrics {
  private final MeterRegistry registry;
  private final MultiGauge quarantined;
  private final TrustLedger trust;

  public ChallengeMetrics(MeterRegistry registry, TrustLedger trust) {
    this.registry = registry;
    this.trust = trust;
    this.quarantined =
        MultiGauge.builder("gpupool.quarantined.nodes")
            .description("Nodes quarantined by a failed hardware challenge, by provider")
            .register(registry);
    trust.onChange(p -> refresh());
  }

  void outcome(String provider, Outcome outcome) {
    Counter.builder("gpupool.challenges")
        .description("Hardware challenges by provider and outcome")
        .tags("provider", provider, "outcome", outcome.name().toLowerCase(Locale.ROOT))
        .register(registry)
        .increment();
  }

  private void refresh() {
    Map<String, Integer> byProvider = new TreeMap<>();
    trust.providers().forEach(p -> byProvider.put(p, 0));
    byProvider.putAll(trust.quarantinedByProvider());
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    byProvider.forEach((p, n) -> rows.add(MultiGauge.Row.of(Tags.of("provider", p), n)));
    quarantined.register(rows, true);
  }
}
