package io.gpupool.e2e.chaos;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The operator replicas' heap, read from their metrics endpoints: oldest replica first (its first
 * reading is the start figure), the next one when it does not answer, each reading on a connection
 * of its own. The soak's end reading failed three runs in a row while the samples before it had
 * worked, and why was never recorded; now a failed reading says why ({@link #whyNot}), and one
 * replica that does not answer no longer leaves the run without a figure.
 */
public final class HeapReadings {

  /** A replica to ask: its name, metrics port and when it started. */
  public record Replica(String name, int port, Instant started) {}

  private final Map<String, Double> firstReading = new HashMap<>();
  private String whyNot = "not read yet";

  /**
   * "start → now" in MiB of the oldest of {@code live} that answers within {@code timeout}, with
   * its name and uptime; empty when none did ({@link #whyNot} then says what each answered).
   */
  public synchronized Optional<String> read(List<Replica> live, Duration timeout, Instant now) {
    List<String> failures = new ArrayList<>();
    for (Replica r : live.stream().sorted(Comparator.comparing(Replica::started)).toList()) {
      try {
        double bytes = scrape(r.port(), timeout);
        double start = firstReading.computeIfAbsent(r.name(), n -> bytes);
        long uptime = Duration.between(r.started(), now).toMinutes();
        return Optional.of(
            String.format(
                Locale.ROOT,
                "%.0f MiB → %.0f MiB (%s, up %d min; live data after the last major GC)",
                start / 1048576,
                bytes / 1048576,
                r.name(),
                uptime));
      } catch (IOException | RuntimeException e) {
        failures.add(r.name() + ": " + e);
      }
    }
    whyNot = live.isEmpty() ? "no replica alive" : String.join("; ", failures);
    return Optional.empty();
  }

  /** Why the last reading that failed failed, replica by replica. */
  public synchronized String whyNot() {
    return whyNot;
  }

  /**
   * What the old generation kept after the last major collection ({@code
   * jvm_gc_live_data_size_bytes}), or the heap in use when no major collection ran yet. A fresh
   * connection, closed after the one request: no pooled connection a timed-out or interrupted
   * earlier request may have left broken.
   */
  static double scrape(int port, Duration timeout) throws IOException {
    HttpURLConnection c =
        (HttpURLConnection)
            URI.create("http://127.0.0.1:" + port + "/q/metrics").toURL().openConnection();
    int millis = (int) Math.max(1, timeout.toMillis());
    c.setConnectTimeout(millis);
    c.setReadTimeout(millis);
    c.setUseCaches(false);
    c.setRequestProperty("Connection", "close");
    try {
      if (c.getResponseCode() != 200) {
        throw new IOException("HTTP " + c.getResponseCode() + " from /q/metrics");
      }
      String body;
      try (InputStream in = c.getInputStream()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      OptionalDouble bytes = parse(body);
      if (bytes.isEmpty()) {
        throw new IOException("no jvm_gc_live_data_size_bytes or heap jvm_memory_used_bytes");
      }
      return bytes.getAsDouble();
    } finally {
      c.disconnect();
    }
  }

  /** The live data after the last major GC, else the heap in use; empty when neither is there. */
  static OptionalDouble parse(String exposition) {
    double live = sum(exposition, "jvm_gc_live_data_size_bytes", "");
    if (live > 0) {
      return OptionalDouble.of(live);
    }
    double used = sum(exposition, "jvm_memory_used_bytes", "area=\"heap\"");
    return used > 0 ? OptionalDouble.of(used) : OptionalDouble.empty();
  }

  private static double sum(String exposition, String metric, String labelPart) {
    return exposition
        .lines()
        .filter(l -> l.startsWith(metric + " ") || l.startsWith(metric + "{"))
        .filter(l -> l.contains(labelPart))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
