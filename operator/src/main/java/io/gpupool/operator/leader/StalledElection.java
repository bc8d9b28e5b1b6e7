package io.gpupool.operator.leader;

import java.time.Duration;
import java.time.Instant;

/**
 * Whether this replica's leader election has stopped while the process lives on. fabric8's
 * LeaderElector ends its acquire loop for good on any exception that is not a {@code
 * KubernetesClientException}, and a replica that was not leading then neither exits nor competes
 * again: it stays up, a follower forever. With every replica in that state nothing reconciles,
 * meters or settles. What gives it away from outside the elector: the Lease has had no live holder
 * (absent, or not renewed within its duration) for far longer than any competing replica needs to
 * take it, and this replica, which is not leading, has not taken it. Pure: fed the readings.
 */
final class StalledElection {
  private final Duration patience;
  private Instant unheldSince;

  /**
   * @param patience how long the Lease may stay without a live holder before this replica's
   *     election counts as stopped (several lease durations: a healthy elector retries every retry
   *     period)
   */
  StalledElection(Duration patience) {
    this.patience = patience;
  }

  /**
   * One reading of the Lease at {@code now}: {@code renewedAt} null when there is no Lease or no
   * holder. True when the election has stalled (the caller exits so that the replica restarts).
   */
  boolean stalled(boolean leading, Instant renewedAt, Duration leaseDuration, Instant now) {
    boolean held = renewedAt != null && !now.isAfter(renewedAt.plus(leaseDuration));
    if (leading || held) {
      unheldSince = null;
      return false;
    }
    if (unheldSince == null) {
      unheldSince = now;
    }
    return !now.isBefore(unheldSince.plus(patience));
  }

  /** Since when the Lease has had no live holder, or null. */
  Instant unheldSince() {
    return unheldSince;
  }
}
