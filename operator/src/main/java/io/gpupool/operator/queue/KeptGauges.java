package io.gpupool.operator.queue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One gauge per row (a queue, or a queue and a flavor), registered the first time the row appears,
 * updated in place after that and removed when the row is gone. A MultiGauge re-registered every
 * admission round did the same through the meter registry each time: half a millisecond per round
 * with a few thousand meters registered, spent while the round holds admission's lock
 * (docs/benchmarks.md).
 */
final class KeptGauges {
  private final MeterRegistry registry;
  private final String name;
  private final String description;
  private final String baseUnit;
  private final Map<Tags, Row> rows = new HashMap<>();

  private record Row(AtomicLong value, Gauge gauge) {}

  KeptGauges(MeterRegistry registry, String name, String description, String baseUnit) {
    this.registry = registry;
    this.name = name;
    this.description = description;
    this.baseUnit = baseUnit;
  }

  /** The gauges now read {@code values}; rows not among them are removed. */
  synchronized void set(Map<Tags, Long> values) {
    values.forEach((tags, v) -> rows.computeIfAbsent(tags, this::register).value().set(v));
    for (Iterator<Map.Entry<Tags, Row>> it = rows.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Tags, Row> row = it.next();
      if (!values.containsKey(row.getKey())) {
        registry.remove(row.getValue().gauge());
        it.remove();
      }
    }
  }

  private Row register(Tags tags) {
    AtomicLong value = new AtomicLong();
    Gauge gauge =
        Gauge.builder(name, value, AtomicLong::get)
            .description(description)
            .baseUnit(baseUnit)
            .tags(tags)
            .strongReference(true)
            .register(registry);
    return new Row(value, gauge);
  }
}
