package io.gpupool.operator.leader;

import java.time.Duration;
import java.time.Instant;

/**
 * Whether this replica's leader election has stopped while the process lives on. fabric8's
 * LeaderElector ends its loops for good on any exception that is not a {@code
 * KubernetesClientException} (and silently when its executor refuses a task). A follower in that
 * state neither exits nor competes again: it stays up, idle, and with every replica so nothing
 * reconciles, meters or settles. A leader in that state stops renewing without noticing, and keeps
 * acting after another replica took the Lease. What gives either away from outside the elector:
 *
 * <ul>
 *   <li>a follower: the Lease has had no live holder (absent, or not renewed within its duration)
 *       for far longer than a competing replica needs to take it, and this replica has not;
 *   <li>a leader: the Lease names another holder, or has not been renewed within its duration.
 * </ul>
 *
 * Pure: fed the readings.
 */
final class StalledElection {

  /** What a reading shows. */
  enum Verdict {
    /** The election runs as it should. */
    RUNNING,
    /** A follower whose election stopped: it should exit and restart. */
    STALLED_FOLLOWER,
    /** A replica that believes it leads while the Lease says otherwise: it must exit at once. */
    DEPOSED_LEADER
  }

  private final Duration patience;
  private Instant unheldSince;

  /**
   * @param patience how long the Lease may stay without a live holder before a follower's election
   *     counts as stopped (several lease durations: a healthy elector retries every retry period)
   */
  StalledElection(Duration patience) {
    this.patience = patience;
  }

  /**
   * One reading of the Lease at {@code now}: {@code renewedAt} null when there is no Lease or no
   * holder; {@code heldByUs} whether the holder is this replica's identity.
   */
  Verdict read(
      boolean leading, boolean heldByUs, Instant renewedAt, Duration leaseDuration, Instant now) {
    boolean live = renewedAt != null && !now.isAfter(renewedAt.plus(leaseDuration));
    if (leading) {
      unheldSince = null;
      return renewedAt != null && (!heldByUs || !live) ? Verdict.DEPOSED_LEADER : Verdict.RUNNING;
    }
    if (live) {
      unheldSince = null;
      return Verdict.RUNNING;
    }
    if (unheldSince == null) {
      unheldSince = now;
    }
    return now.isBefore(unheldSince.plus(patience)) ? Verdict.RUNNING : Verdict.STALLED_FOLLOWER;
  }

  /** Since when the Lease has had no live holder while this replica followed, or null. */
  Instant unheldSince() {
    return unheldSince;
  }
}
