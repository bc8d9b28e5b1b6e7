package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.time.Instant;
import java.util.Optional;

/**
 * What the meter knows of one pod it meters: the pair, start, GPUs and price are fixed when it is
 * first seen running; the end once it is seen stopping.
 */
record TrackedPod(
    String podUid,
    JobRef job,
    PairId pair,
    String providerName,
    String nodeName,
    Instant start,
    Instant end,
    long milliGpus,
    BigInteger price,
    boolean gone) {

  /** Ended at {@code at} unless an end was seen before (the first end seen is kept). */
  TrackedPod ended(Instant at, boolean deleted) {
    Instant e = end != null ? end : at;
    if (e != null && e.isBefore(start)) {
      e = start;
    }
    return new TrackedPod(
        podUid, job, pair, providerName, nodeName, start, e, milliGpus, price, gone || deleted);
  }

  /** Ended no later than the start of its node's outage, if there is one. */
  TrackedPod cappedBy(Optional<Instant> outageStart) {
    if (outageStart.isEmpty()) {
      return this;
    }
    Instant cap = BillableTime.later(outageStart.get(), start);
    Instant e = BillableTime.earlier(end, cap);
    return e.equals(end)
        ? this
        : new TrackedPod(
            podUid, job, pair, providerName, nodeName, start, e, milliGpus, price, gone);
  }
}
