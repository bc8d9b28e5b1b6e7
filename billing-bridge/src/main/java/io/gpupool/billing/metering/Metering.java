package io.gpupool.billing.metering;

import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * Pure metering: pod lifetimes to cumulative GPU time and cost per (job, payer, provider).
 *
 * <p>Units: GPU time in milli-GPU x milliseconds; prices in wei per GPU-hour; cost in wei. A pod
 * contributes {@code milliGpus x (min(end, observedAt) - start)} with the duration truncated to
 * whole milliseconds. The pair's cost is {@code floor(sum(milliGpuMillis x price) / 3.6e9)}:
 * rounding happens once, on the cumulative exact value, so it never over-charges (at most 1 wei
 * under per pair) and grows monotonically as pods run longer.
 *
 * <p>{@code observedAt} must be an instant at which every pod reported without an end was seen
 * running: then a running pod is charged only for time it really ran, and a later report of its end
 * can only add time, never take it back.
 */
public final class Metering {

  private Metering() {}

  /** GPU time of one pod up to {@code observedAt}, in milli-GPU x milliseconds. */
  public static long milliGpuMillis(PodLifetime pod, Instant observedAt) {
    Instant until = pod.end() == null || pod.end().isAfter(observedAt) ? observedAt : pod.end();
    if (!until.isAfter(pod.start())) {
      return 0;
    }
    long millis = Duration.between(pod.start(), until).toMillis();
    return Math.multiplyExact(millis, pod.milliGpus());
  }

  /**
   * Cumulative usage per pair for all the given pods. Pods are identified by UID; when the same UID
   * appears more than once the report covering the most time counts (reports only ever grow).
   */
  public static Map<PairId, PairUsage> meter(Collection<PodLifetime> pods, Instant observedAt) {
    Map<String, PodLifetime> byUid = new HashMap<>(pods.size() * 2);
    Map<String, Long> usageByUid = new HashMap<>(pods.size() * 2);
    for (PodLifetime pod : pods) {
      long usage = milliGpuMillis(pod, observedAt);
      Long previous = usageByUid.get(pod.podUid());
      if (previous == null || usage > previous) {
        PodLifetime earlier = byUid.put(pod.podUid(), pod);
        if (earlier != null && !earlier.pair().equals(pod.pair())) {
          throw new IllegalArgumentException(
              "pod "
                  + pod.podUid()
                  + " reported for two pairs: "
                  + earlier.pair()
                  + ", "
                  + pod.pair());
        }
        usageByUid.put(pod.podUid(), usage);
      }
    }
    Map<PairId, PairUsage> result = new HashMap<>();
    for (PodLifetime pod : byUid.values()) {
      long usage = usageByUid.get(pod.podUid());
      BigInteger numerator =
          usage == 0
              ? BigInteger.ZERO
              : BigInteger.valueOf(usage).multiply(pod.priceWeiPerGpuHour());
      result.merge(
          pod.pair(),
          new PairUsage(pod.pair(), usage, numerator),
          (a, b) -> a.plus(b.milliGpuMillis(), b.costNumerator()));
    }
    return result;
  }

  /**
   * Cost in wei of holding {@code milliGpus} at {@code priceWeiPerGpuHour} for {@code duration},
   * rounded up: budget checks must not under-estimate what the next interval will cost.
   */
  public static BigInteger costCeiling(
      long milliGpus, BigInteger priceWeiPerGpuHour, Duration duration) {
    BigInteger numerator =
        BigInteger.valueOf(milliGpus)
            .multiply(BigInteger.valueOf(duration.toMillis()))
            .multiply(priceWeiPerGpuHour);
    BigInteger[] qr = numerator.divideAndRemainder(PairUsage.MILLI_GPU_MILLIS_PER_GPU_HOUR);
    return qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
  }
}
