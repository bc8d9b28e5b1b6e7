package io.gpupool.billing.metering;

import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the operator knows about one pod's GPU use: when its GPU container started and (once it has)
 * ended, how many GPUs it held and at what price the node's provider sells them.
 *
 * @param podUid the pod's UID; a pod is counted once however often it is reported
 * @param pair the (job, payer, provider) the usage is charged to
 * @param start when the GPU container started running
 * @param end when it terminated, or {@code null} while it is running
 * @param milliGpus GPUs held, in thousandths of a GPU (1 GPU = 1000)
 * @param priceWeiPerGpuHour the node's price in wei (smallest token unit) per whole GPU-hour
 */
public record PodLifetime(
    String podUid,
    PairId pair,
    Instant start,
    Instant end,
    long milliGpus,
    BigInteger priceWeiPerGpuHour) {

  public PodLifetime {
    Objects.requireNonNull(podUid, "podUid");
    Objects.requireNonNull(pair, "pair");
    Objects.requireNonNull(start, "start");
    Objects.requireNonNull(priceWeiPerGpuHour, "priceWeiPerGpuHour");
    if (milliGpus < 0) {
      throw new IllegalArgumentException("milliGpus must be >= 0: " + milliGpus);
    }
    if (priceWeiPerGpuHour.signum() < 0) {
      throw new IllegalArgumentException("price must be >= 0: " + priceWeiPerGpuHour);
    }
    if (end != null && end.isBefore(start)) {
      throw new IllegalArgumentException("end " + end + " before start " + start);
    }
  }

  /** A pod holding whole GPUs. */
  public static PodLifetime ofGpus(
      String podUid, PairId pair, Instant start, Instant end, int gpus, BigInteger price) {
    return new PodLifetime(podUid, pair, start, end, Math.multiplyExact(gpus, 1000L), price);
  }

  public Optional<Instant> endTime() {
    return Optional.ofNullable(end);
  }
}
