package io.gpupool.scheduler.verify;

/**
 * Relative L2 distance between two parameter vectors: |replayed - committed| / |committed|.
 *
 * <p>Relative, so one tolerance fits models of any size and scale: GPU training is not bitwise
 * reproducible (kernel choice, reduction order), and honest replays differ from the original by a
 * small multiple of the floating-point rounding of the update, while a skipped or altered step
 * moves the parameters by a whole learning-rate step. A vector that is not finite, or of another
 * length, is infinitely far.
 */
public final class ParameterDistance {
  /** Committed vectors with a norm below this are compared absolutely (no division by ~0). */
  static final double TINY_NORM = 1e-12;

  private ParameterDistance() {}

  /** The relative distance; {@code Double.POSITIVE_INFINITY} when they cannot be compared. */
  public static double relative(double[] replayed, double[] committed) {
    if (replayed.length != committed.length) {
      return Double.POSITIVE_INFINITY;
    }
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < committed.length; i++) {
      double r = replayed[i];
      double c = committed[i];
      if (!Double.isFinite(r) || !Double.isFinite(c)) {
        return Double.POSITIVE_INFINITY;
      }
      double d = r - c;
      diff += d * d;
      norm += c * c;
    }
    return Math.sqrt(diff) / Math.max(Math.sqrt(norm), TINY_NORM);
  }

  /** True when a distance (as {@link #relative} gives it) is honest noise under the tolerance. */
  public static boolean within(double distance, double tolerance) {
    // NaN and infinity fail: only a finite distance at or below the tolerance passes.
    return distance <= tolerance;
  }
}
