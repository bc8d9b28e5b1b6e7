package io.gpupool.operator.verification;

import io.gpupool.api.v1alpha1.TrainingVerificationStatus;

/**
 * Where a spot-checked job's checks stand, in {@code status.verification}: {@code checkedThrough}
 * (every interval up to it decided) and {@code lastVerifiedCheckpoint}, the step a caught cheat's
 * job resumes from.
 *
 * <p>The resume point only moves over intervals a verifier (or a referee) replayed and found
 * matching, and only while every earlier interval was so verified: an interval the sampler left
 * unchecked may hide skipped work, and every checkpoint after it descends from that untrusted
 * state, even one whose own interval replayed correctly (the replay starts from the untrusted
 * checkpoint). So with a sample rate below 1 the resume point is the end of the verified run of
 * intervals from the start (or from the last rewind), not the latest verified interval.
 */
final class CheckCursor {
  private CheckCursor() {}

  /** How an interval was decided. */
  enum Decision {
    /** Replayed (or refereed) and found matching. */
    VERIFIED,
    /** Not sampled: nobody looked. */
    UNSAMPLED,
    /** Sampled but its checks gave up, or the referee could not tell. */
    UNCHECKED
  }

  /** The interval (from, to] is decided: every interval up to {@code to} is now decided. */
  static void decided(TrainingVerificationStatus v, long from, long to, Decision decision) {
    if (decision == Decision.VERIFIED && v.lastVerifiedCheckpoint == from) {
      v.lastVerifiedCheckpoint = to;
    }
    v.checkedThrough = to;
  }
}
