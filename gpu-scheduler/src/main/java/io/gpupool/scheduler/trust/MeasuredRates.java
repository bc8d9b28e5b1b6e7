package io.gpupool.scheduler.trust;

import io.gpupool.scheduler.model.GpuCatalog;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The challenge program's measured rates ({@link MeasuredRate}) the operator was given, one per
 * product and size. Written as entries {@code PRODUCT@SIZE=ROUNDS_PER_SECOND}, the line {@code
 * challenge.py --bench} prints: a property list needs no nesting, and a GFD product name never
 * contains '@', '=' or ','.
 */
public final class MeasuredRates {
  private static final MeasuredRates NONE = new MeasuredRates(Map.of());

  private final Map<String, MeasuredRate> byProductAndSize;

  private MeasuredRates(Map<String, MeasuredRate> byProductAndSize) {
    this.byProductAndSize = byProductAndSize;
  }

  /** No product calibrated: every challenge is timed by the catalog. */
  public static MeasuredRates none() {
    return NONE;
  }

  /**
   * These rates; two for one product (in any spelling the catalog accepts) and size are refused.
   */
  public static MeasuredRates of(Collection<MeasuredRate> rates) {
    Map<String, MeasuredRate> map = new LinkedHashMap<>();
    for (MeasuredRate r : rates) {
      MeasuredRate earlier = map.putIfAbsent(key(r.product(), r.size()), r);
      if (earlier != null) {
        throw new IllegalArgumentException(
            "two rates for "
                + r.product()
                + " at size "
                + r.size()
                + " ("
                + entry(earlier)
                + " and "
                + entry(r)
                + "): keep one");
      }
    }
    return map.isEmpty() ? NONE : new MeasuredRates(Collections.unmodifiableMap(map));
  }

  /** Rates from entries {@code PRODUCT@SIZE=ROUNDS_PER_SECOND}, each checked. */
  public static MeasuredRates parse(List<String> entries) {
    List<MeasuredRate> rates = new ArrayList<>();
    for (String raw : entries) {
      String e = raw.strip();
      if (e.isEmpty()) {
        continue;
      }
      int at = e.indexOf('@');
      int eq = e.indexOf('=');
      if (at < 1 || eq < at + 2 || eq == e.length() - 1) {
        throw new IllegalArgumentException(
            "'" + e + "' is not PRODUCT@SIZE=ROUNDS_PER_SECOND (challenge.py --bench prints it)");
      }
      int size;
      double rate;
      try {
        size = Integer.parseInt(e.substring(at + 1, eq).strip());
      } catch (NumberFormatException x) {
        throw new IllegalArgumentException("'" + e + "': the size is not a whole number");
      }
      try {
        rate = Double.parseDouble(e.substring(eq + 1).strip());
      } catch (NumberFormatException x) {
        throw new IllegalArgumentException("'" + e + "': the rounds per second are not a number");
      }
      try {
        rates.add(new MeasuredRate(e.substring(0, at).strip(), size, rate));
      } catch (IllegalArgumentException x) {
        throw new IllegalArgumentException("'" + e + "': " + x.getMessage());
      }
    }
    return of(rates);
  }

  /** The entry that {@link #parse} reads back as {@code rate}. */
  public static String entry(MeasuredRate rate) {
    return rate.product() + "@" + rate.size() + "=" + plain(rate.roundsPerSecond());
  }

  /** The rate measured for {@code product} (any spelling the catalog accepts) at {@code size}. */
  public Optional<MeasuredRate> at(String product, int size) {
    return Optional.ofNullable(byProductAndSize.get(key(product, size)));
  }

  /** Every rate, in the order given. */
  public List<MeasuredRate> all() {
    return List.copyOf(byProductAndSize.values());
  }

  public boolean isEmpty() {
    return byProductAndSize.isEmpty();
  }

  private static String key(String product, int size) {
    return GpuCatalog.normalize(product).toLowerCase(Locale.ROOT) + "@" + size;
  }

  private static String plain(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? Long.toString((long) value)
        : Double.toString(value);
  }
}
