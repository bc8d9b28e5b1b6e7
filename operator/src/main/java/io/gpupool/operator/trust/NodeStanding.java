package io.gpupool.operator.trust;

import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import java.time.Instant;

/** One node's standing in the {@link TrustLedger}: its last verdict for the product it claimed. */
final class NodeStanding {
  String provider;
  String product;
  Outcome outcome;
  String message;
  Instant at;
  Instant nextDue;
  double gpuSeconds;
  double speedFactor = 1.0;
  String ratedMessage;
  Instant ratedSince;

  /** True when the node's last verdict keeps it out of placement. */
  boolean quarantined() {
    return quarantines(outcome);
  }

  /** True for the outcomes that keep a node out of placement. */
  static boolean quarantines(Outcome o) {
    return o == Outcome.WRONG_RESULT || o == Outcome.FAILED_OPENING || o == Outcome.TOO_SLOW;
  }
}
