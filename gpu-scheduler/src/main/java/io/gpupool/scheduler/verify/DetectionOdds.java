package io.gpupool.scheduler.verify;

/**
 * How likely spot-checks are to catch a provider, and how many checks a confidence needs.
 *
 * <p>Intervals are sampled independently with probability r, so a provider that cheats on c
 * intervals is missed with probability (1 - r)^c. The replay of a sampled interval costs the GPU
 * time of that interval again, so the expected verification overhead is r of the training's GPU
 * time, plus one recomputed step per mismatch for the referee.
 */
public final class DetectionOdds {
  private DetectionOdds() {}

  /** Probability that at least one of {@code cheatedIntervals} is sampled at {@code rate}. */
  public static double detection(double rate, long cheatedIntervals) {
    if (cheatedIntervals <= 0) {
      return 0;
    }
    return -Math.expm1(cheatedIntervals * Math.log1p(-Math.min(rate, 1)));
  }

  /** Smallest number of cheated intervals detected with at least {@code confidence}. */
  public static long intervalsForConfidence(double rate, double confidence) {
    if (rate >= 1) {
      return 1;
    }
    return (long) Math.ceil(Math.log1p(-confidence) / Math.log1p(-rate));
  }
}
