package io.gpupool.billing.settlement;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with jitter: attempt n waits {@code min(max, initial x multiplier^(n-1))},
 * shortened by up to {@code jitter} (a fraction) so that retries of many pairs spread out.
 */
public record Backoff(Duration initial, Duration max, double multiplier, double jitter) {

  public Backoff {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 <= initial <= max");
    }
    if (multiplier < 1.0) {
      throw new IllegalArgumentException("multiplier must be >= 1");
    }
    if (jitter < 0.0 || jitter >= 1.0) {
      throw new IllegalArgumentException("jitter must be in [0, 1)");
    }
  }

  /** Delay before retry number {@code attempt} (1 = first retry); {@code random} yields [0, 1). */
  public Duration delay(int attempt, DoubleSupplier random) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1");
    }
    double base = initial.toMillis() * Math.pow(multiplier, attempt - 1.0);
    double capped = Math.min(base, max.toMillis());
    double factor = 1.0 - jitter * random.getAsDouble();
    return Duration.ofMillis(Math.round(capped * factor));
  }
}
