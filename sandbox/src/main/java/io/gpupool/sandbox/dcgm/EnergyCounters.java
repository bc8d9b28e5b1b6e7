package io.gpupool.sandbox.dcgm;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * DCGM's total-energy counter: each GPU's power integrated over time between scrapes, in
 * millijoules, so that it only grows (Prometheus {@code rate()} over it is the mean power).
 */
final class EnergyCounters {
  private final Map<String, Double> millijoules = new HashMap<>();
  private Instant last;

  /** Adds {@code readings}' power over the time since the previous call; returns the totals. */
  Map<String, Long> advance(List<GpuReading> readings, Instant now) {
    double seconds =
        last == null ? 0 : Math.max(0, Duration.between(last, now).toMillis() / 1000.0);
    last = now;
    Set<String> present = readings.stream().map(GpuReading::uuid).collect(Collectors.toSet());
    millijoules.keySet().retainAll(present);
    Map<String, Long> totals = new HashMap<>();
    for (GpuReading r : readings) {
      double total = millijoules.merge(r.uuid(), r.powerWatts() * seconds * 1000, Double::sum);
      totals.put(r.uuid(), (long) total);
    }
    return totals;
  }
}
