package io.gpupool.scheduler.trust;

import io.gpupool.scheduler.model.GpuSpec;
import java.math.BigDecimal;
import java.util.Locale;

/**
 * How many rounds of one size an honest GPU of a claimed product answers per second, and what the
 * figure rests on: the challenge program's rate measured on that product ({@link MeasuredRate}), or
 * the catalog's dense TFLOP/s at the timing model's {@code efficiency}. Every time a challenge is
 * judged by follows from it: rounds / (GPUs × rate).
 *
 * @param product the claimed product, as the rate names it
 * @param roundsPerSecond per GPU
 * @param efficiency the share of the catalog's TFLOP/s assumed; 0 for a measured rate
 */
public record ChallengeRate(
    String product, int size, double roundsPerSecond, boolean measured, double efficiency) {

  public ChallengeRate {
    if (!(roundsPerSecond > 0) || Double.isInfinite(roundsPerSecond)) {
      throw new IllegalArgumentException("a challenge rate must be above 0: " + roundsPerSecond);
    }
  }

  /** The operator's measurement of the product. */
  public static ChallengeRate measured(MeasuredRate rate) {
    return new ChallengeRate(rate.product(), rate.size(), rate.roundsPerSecond(), true, 0);
  }

  /** The product's catalog TFLOP/s at {@code efficiency}, over the 2·size³ FLOPs of a round. */
  public static ChallengeRate catalog(GpuSpec spec, int size, double efficiency) {
    return new ChallengeRate(
        spec.product(),
        size,
        spec.denseTflops() * 1e12 * efficiency / flopsPerRound(size),
        false,
        efficiency);
  }

  /** This rate at {@code share} of it: the time a node rated below its claim is given. */
  public ChallengeRate atShare(double share) {
    if (!(share > 0) || share > 1) {
      throw new IllegalArgumentException("a speed share must be in (0, 1], was " + share);
    }
    return new ChallengeRate(product, size, roundsPerSecond * share, measured, efficiency);
  }

  /** What the rate rests on, for a verdict's message. */
  public String basis() {
    if (measured) {
      return String.format(
          Locale.ROOT,
          "the measured %s rounds/s per GPU of %s at size %d",
          grouped(roundsPerSecond),
          product,
          size);
    }
    return String.format(
        Locale.ROOT,
        "the catalog's %s TFLOP/s of %s at efficiency %s (no rate measured at size %d)",
        grouped(tflops(roundsPerSecond, size, efficiency)),
        product,
        trimmed(efficiency),
        size);
  }

  /**
   * A speed of {@code observed} rounds per second per GPU in this rate's terms: rounds/s against a
   * measured rate, the datasheet TFLOP/s it corresponds to against the catalog.
   */
  public String speed(double observed) {
    if (measured) {
      return grouped(observed) + " rounds/s per GPU";
    }
    return String.format(Locale.ROOT, "%.0f TFLOP/s per GPU", tflops(observed, size, efficiency));
  }

  /**
   * Dense TFLOP/s per GPU that {@code roundsPerSecond} of {@code size} stand for at {@code
   * efficiency}.
   */
  static double tflops(double roundsPerSecond, int size, double efficiency) {
    return roundsPerSecond * flopsPerRound(size) / 1e12 / efficiency;
  }

  static double flopsPerRound(int size) {
    return 2.0 * size * size * (double) size;
  }

  /** 1,480 / 15.5 / 0.23: whole above 100, three significant digits below. */
  private static String grouped(double value) {
    if (value >= 100) {
      return String.format(Locale.ROOT, "%,.0f", value);
    }
    return trimmed(Double.parseDouble(String.format(Locale.ROOT, "%.3g", value)));
  }

  private static String trimmed(double value) {
    return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }
}
