package io.gpupool.billing.metering;

import static io.gpupool.billing.Fixtures.PAYER_A;
import static io.gpupool.billing.Fixtures.PROVIDER_X;
import static io.gpupool.billing.Fixtures.PROVIDER_Y;
import static io.gpupool.billing.Fixtures.pair;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MeteringTest {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  static final PairId JOB_X = pair("ns/train", PAYER_A, PROVIDER_X);
  static final PairId JOB_Y = pair("ns/train", PAYER_A, PROVIDER_Y);
  // 3.6e12 wei per GPU-hour = exactly 1e9 wei (1 gwei) per GPU-second.
  static final BigInteger PRICE = BigInteger.valueOf(3_600_000_000_000L);

  @Test
  void finishedPodIsChargedExactlyForItsGpuTime() {
    PodLifetime pod = PodLifetime.ofGpus("p1", JOB_X, T0, T0.plusSeconds(90), 2, PRICE);
    PairUsage u = Metering.meter(List.of(pod), T0.plusSeconds(1000)).get(JOB_X);
    assertThat(u.gpuSeconds()).isEqualTo(180);
    assertThat(u.milliGpuMillis()).isEqualTo(180_000_000L);
    assertThat(u.costWei()).isEqualTo(BigInteger.valueOf(180_000_000_000L));
  }

  @Test
  void milliGpusAndMillisecondsAreExact() {
    // 250 mGPU for 1.5 s at 1 gwei/GPU-s = 0.375 GPU-s = 375,000,000 wei.
    PodLifetime pod = new PodLifetime("p1", JOB_X, T0, T0.plusMillis(1500), 250, PRICE);
    assertThat(Metering.meter(List.of(pod), T0.plusSeconds(5)).get(JOB_X).costWei())
        .isEqualTo(BigInteger.valueOf(375_000_000L));
  }

  @Test
  void runningPodIsChargedUpToObservationOnly() {
    PodLifetime running = PodLifetime.ofGpus("p1", JOB_X, T0, null, 1, PRICE);
    assertThat(Metering.meter(List.of(running), T0.plusSeconds(10)).get(JOB_X).gpuSeconds())
        .isEqualTo(10);
    assertThat(Metering.meter(List.of(running), T0.minusSeconds(5)).get(JOB_X).costWei()).isZero();
  }

  @Test
  void costIsRoundedDownOnceOnTheCumulativeTotal() {
    // price 1 wei per GPU-hour: each 1 GPU-second pod is worth 1/3600 wei; 3600 of them = 1 wei.
    List<PodLifetime> pods = new ArrayList<>();
    for (int i = 0; i < 3600; i++) {
      pods.add(PodLifetime.ofGpus("p" + i, JOB_X, T0, T0.plusSeconds(1), 1, BigInteger.ONE));
    }
    PairUsage u = Metering.meter(pods, T0.plusSeconds(2)).get(JOB_X);
    assertThat(u.costWei()).isEqualTo(BigInteger.ONE);
    assertThat(Metering.meter(pods.subList(0, 3599), T0.plusSeconds(2)).get(JOB_X).costWei())
        .isZero();
  }

  @Test
  void pairsAreSeparatedByProviderAndSummedWithinAPair() {
    List<PodLifetime> pods =
        List.of(
            PodLifetime.ofGpus("a", JOB_X, T0, T0.plusSeconds(10), 1, PRICE),
            PodLifetime.ofGpus(
                "b", JOB_X, T0, T0.plusSeconds(20), 1, PRICE.multiply(BigInteger.TWO)),
            PodLifetime.ofGpus("c", JOB_Y, T0, T0.plusSeconds(30), 4, PRICE));
    Map<PairId, PairUsage> m = Metering.meter(pods, T0.plusSeconds(100));
    assertThat(m).hasSize(2);
    assertThat(m.get(JOB_X).costWei()).isEqualTo(BigInteger.valueOf(50_000_000_000L));
    assertThat(m.get(JOB_Y).costWei()).isEqualTo(BigInteger.valueOf(120_000_000_000L));
  }

  @Test
  void aPodReportedTwiceCountsOnceWithItsLongestReport() {
    PodLifetime early = PodLifetime.ofGpus("p1", JOB_X, T0, null, 1, PRICE);
    PodLifetime ended = PodLifetime.ofGpus("p1", JOB_X, T0, T0.plusSeconds(40), 1, PRICE);
    assertThat(
            Metering.meter(List.of(early, ended, early), T0.plusSeconds(30))
                .get(JOB_X)
                .gpuSeconds())
        .isEqualTo(30);
    assertThat(Metering.meter(List.of(ended, early), T0.plusSeconds(60)).get(JOB_X).gpuSeconds())
        .isEqualTo(60); // the running report observed at 60 s covers more; the end must be later
    PodLifetime elsewhere = PodLifetime.ofGpus("p1", JOB_Y, T0, T0.plusSeconds(50), 1, PRICE);
    assertThatThrownBy(() -> Metering.meter(List.of(ended, elsewhere), T0.plusSeconds(60)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("two pairs");
  }

  @Test
  void invalidLifetimesAreRejected() {
    assertThatThrownBy(() -> PodLifetime.ofGpus("p", JOB_X, T0, T0.minusSeconds(1), 1, PRICE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PodLifetime("p", JOB_X, T0, null, -1, PRICE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new PodLifetime("p", JOB_X, T0, null, 1, BigInteger.valueOf(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * Random pod histories observed at increasing instants (pods that end are seen ended only after
   * their end): the cumulative cost never decreases and never exceeds the exact rational cost.
   */
  @Test
  void cumulativeCostIsMonotoneAndNeverAboveExactCost() {
    Random rnd = new Random(42);
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + rnd.nextInt(8);
      long[] startMs = new long[n];
      long[] endMs = new long[n];
      long[] mgpu = new long[n];
      BigInteger[] price = new BigInteger[n];
      for (int i = 0; i < n; i++) {
        startMs[i] = rnd.nextInt(100_000);
        endMs[i] = startMs[i] + rnd.nextInt(500_000);
        mgpu[i] = 1 + rnd.nextInt(8000);
        price[i] = BigInteger.valueOf(1 + rnd.nextInt(1_000_000_000));
      }
      BigInteger previous = BigInteger.ZERO;
      for (long obs = 0; obs <= 700_000; obs += 1 + rnd.nextInt(50_000)) {
        List<PodLifetime> pods = new ArrayList<>();
        BigInteger exactNumerator = BigInteger.ZERO;
        for (int i = 0; i < n; i++) {
          if (startMs[i] > obs) {
            continue; // not started yet at this observation
          }
          boolean ended = endMs[i] <= obs;
          pods.add(
              new PodLifetime(
                  "p" + i,
                  JOB_X,
                  T0.plusMillis(startMs[i]),
                  ended ? T0.plusMillis(endMs[i]) : null,
                  mgpu[i],
                  price[i]));
          long ms = Math.min(endMs[i], obs) - startMs[i];
          exactNumerator = exactNumerator.add(BigInteger.valueOf(ms * mgpu[i]).multiply(price[i]));
        }
        PairUsage u = Metering.meter(pods, T0.plusMillis(obs)).get(JOB_X);
        BigInteger cost = u == null ? BigInteger.ZERO : u.costWei();
        assertThat(cost).isGreaterThanOrEqualTo(previous);
        // never over-charge: cost x 3.6e9 <= exact numerator, and less than 1 wei under.
        BigInteger scaled = cost.multiply(PairUsage.MILLI_GPU_MILLIS_PER_GPU_HOUR);
        assertThat(scaled).isLessThanOrEqualTo(exactNumerator);
        assertThat(exactNumerator.subtract(scaled))
            .isLessThan(PairUsage.MILLI_GPU_MILLIS_PER_GPU_HOUR);
        previous = cost;
      }
    }
  }

  @Test
  void budgetCostIsRoundedUp() {
    assertThat(Metering.costCeiling(1000, BigInteger.ONE, Duration.ofSeconds(1)))
        .isEqualTo(BigInteger.ONE);
    assertThat(Metering.costCeiling(1000, BigInteger.valueOf(3600), Duration.ofHours(2)))
        .isEqualTo(BigInteger.valueOf(7200));
    assertThat(Metering.costCeiling(0, BigInteger.TEN, Duration.ofHours(2))).isZero();
  }
}
