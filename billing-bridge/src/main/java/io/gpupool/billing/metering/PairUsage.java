package io.gpupool.billing.metering;

import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.util.Objects;

/**
 * Cumulative usage of one (job, payer, provider) pair.
 *
 * @param pair the pair
 * @param milliGpuMillis GPU time in milli-GPU x milliseconds (1 GPU-second = 1,000,000)
 * @param costNumerator exact cost x 3.6e9, i.e. sum of milliGpuMillis x price-per-GPU-hour; kept so
 *     that cumulative cost is floor(exact total) rather than a sum of per-pod roundings
 */
public record PairUsage(PairId pair, long milliGpuMillis, BigInteger costNumerator) {

  /** milli-GPU x milliseconds in one GPU-hour: 1000 x 3,600,000. */
  public static final BigInteger MILLI_GPU_MILLIS_PER_GPU_HOUR = BigInteger.valueOf(3_600_000_000L);

  public PairUsage {
    Objects.requireNonNull(pair, "pair");
    Objects.requireNonNull(costNumerator, "costNumerator");
  }

  /** Cumulative cost in wei, rounded down: never more than the exact cost, and monotone. */
  public BigInteger costWei() {
    return costNumerator.divide(MILLI_GPU_MILLIS_PER_GPU_HOUR);
  }

  /** Whole GPU-seconds used (rounded down). */
  public long gpuSeconds() {
    return milliGpuMillis / 1_000_000L;
  }

  PairUsage plus(long moreMilliGpuMillis, BigInteger moreNumerator) {
    return new PairUsage(
        pair, Math.addExact(milliGpuMillis, moreMilliGpuMillis), costNumerator.add(moreNumerator));
  }
}
