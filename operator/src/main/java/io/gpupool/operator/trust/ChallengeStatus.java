package io.gpupool.operator.trust;

import io.gpupool.api.v1alpha1.ChallengeRecord;
import io.gpupool.api.v1alpha1.PassedNode;
import io.gpupool.api.v1alpha1.QuarantinedNode;
import io.gpupool.api.v1alpha1.SpeedCorrectedNode;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Translates the {@link TrustLedger}'s node standings to and from GpuProvider {@code
 * status.challenges}: quarantines, passes with the next random challenge time, and speed ratings.
 * The ledger writes them there so that a restarted operator reads them back before it places or
 * challenges anything. Entries it cannot read are skipped, never guessed.
 */
final class ChallengeStatus {
  static final String WRONG_WORK = "WrongWork";

  private static final Map<Outcome, String> OUTCOME_NAMES =
      Map.of(
          Outcome.WRONG_RESULT,
          "WrongResult",
          Outcome.FAILED_OPENING,
          "FailedOpening",
          Outcome.TOO_SLOW,
          "TooSlow");

  private ChallengeStatus() {}

  /** A node quarantined by a challenge verdict, from status (empty: unreadable, or not one). */
  static Optional<NodeStanding> quarantined(String provider, QuarantinedNode q) {
    Outcome outcome = outcome(q.outcome);
    if (q.node == null || q.product == null || outcome == null) {
      return Optional.empty();
    }
    NodeStanding t = new NodeStanding();
    t.provider = provider;
    t.product = q.product;
    t.outcome = outcome;
    t.message = q.message == null ? "" : q.message;
    t.at = since(q.since);
    return Optional.of(t);
  }

  /** A node whose last challenge passed, with its pass time and next challenge. */
  static Optional<NodeStanding> passed(String provider, PassedNode p) {
    if (p.node == null || p.product == null) {
      return Optional.empty();
    }
    NodeStanding t = new NodeStanding();
    t.provider = provider;
    t.product = p.product;
    t.outcome = Outcome.PASSED;
    t.message = "passed its last hardware challenge";
    t.at = since(p.since);
    // Without a readable schedule, due now: still a random re-check within the budget, not a
    // joining challenge outside it.
    Instant next = since(p.nextChallengeTime);
    t.nextDue = next == null ? Instant.EPOCH : next;
    t.gpuSeconds = p.gpuSeconds == null || !(p.gpuSeconds > 0) ? 0 : p.gpuSeconds;
    return Optional.of(t);
  }

  /** A node rated below its claim. */
  static Optional<NodeStanding> rated(String provider, SpeedCorrectedNode r) {
    if (r.node == null
        || r.product == null
        || r.speedFactor == null
        || !(r.speedFactor > 0)
        || r.speedFactor >= 1) {
      return Optional.empty();
    }
    NodeStanding t = new NodeStanding();
    t.provider = provider;
    t.product = r.product;
    t.outcome = Outcome.SLOWER;
    t.message = r.message == null ? "" : r.message;
    t.at = since(r.since);
    // Challenged again when the budget allows, judged against its rating: a restart neither
    // forgets the correction nor makes it permanent.
    t.nextDue = Instant.EPOCH;
    t.speedFactor = r.speedFactor;
    t.ratedMessage = t.message;
    t.ratedSince = t.at;
    return Optional.of(t);
  }

  /**
   * The provider's status record: {@code counts} and, from the standings of its nodes, those
   * quarantined (by a challenge or for wrong work), rated below their claim, and passed.
   */
  static ChallengeRecord record(
      String provider,
      ChallengeRecord counts,
      Map<String, NodeStanding> nodes,
      Map<String, TrustLedger.Quarantined> workFraud) {
    ChallengeRecord copy = new ChallengeRecord();
    copy.passed = counts.passed == null ? 0 : counts.passed;
    copy.failed = counts.failed == null ? 0 : counts.failed;
    copy.lastChallengeTime = counts.lastChallengeTime;
    TreeMap<String, NodeStanding> sorted = new TreeMap<>(nodes);
    List<QuarantinedNode> quarantined = new ArrayList<>();
    List<SpeedCorrectedNode> corrected = new ArrayList<>();
    List<PassedNode> passes = new ArrayList<>();
    sorted.forEach(
        (name, t) -> {
          if (!provider.equals(t.provider)) {
            return;
          }
          if (t.quarantined()) {
            quarantined.add(quarantinedNode(name, t));
          } else if (t.speedFactor < 1) {
            corrected.add(ratedNode(name, t));
          } else if (t.outcome == Outcome.PASSED && !workFraud.containsKey(name)) {
            passes.add(passedNode(name, t));
          }
        });
    new TreeMap<>(workFraud)
        .forEach(
            (name, w) -> {
              if (provider.equals(w.provider())) {
                QuarantinedNode q = new QuarantinedNode();
                q.node = name;
                q.product = w.product();
                q.outcome = WRONG_WORK;
                q.message = w.reason();
                quarantined.add(q);
              }
            });
    copy.quarantined = quarantined.isEmpty() ? null : quarantined;
    copy.speedCorrected = corrected.isEmpty() ? null : corrected;
    copy.passedNodes = passes.isEmpty() ? null : passes;
    return copy;
  }

  private static QuarantinedNode quarantinedNode(String name, NodeStanding t) {
    QuarantinedNode q = new QuarantinedNode();
    q.node = name;
    q.product = t.product;
    q.outcome = OUTCOME_NAMES.get(t.outcome);
    q.message = t.message;
    q.since = t.at == null ? null : t.at.toString();
    return q;
  }

  private static SpeedCorrectedNode ratedNode(String name, NodeStanding t) {
    SpeedCorrectedNode r = new SpeedCorrectedNode();
    r.node = name;
    r.product = t.product;
    r.speedFactor = t.speedFactor;
    r.message = t.ratedMessage;
    r.since = t.ratedSince == null ? null : t.ratedSince.toString();
    return r;
  }

  private static PassedNode passedNode(String name, NodeStanding t) {
    PassedNode p = new PassedNode();
    p.node = name;
    p.product = t.product;
    p.since = t.at == null ? null : t.at.toString();
    p.nextChallengeTime = t.nextDue == null ? null : t.nextDue.toString();
    p.gpuSeconds = t.gpuSeconds > 0 ? Math.ceil(t.gpuSeconds * 10) / 10 : null;
    return p;
  }

  private static Outcome outcome(String name) {
    for (var e : OUTCOME_NAMES.entrySet()) {
      if (e.getValue().equals(name)) {
        return e.getKey();
      }
    }
    return null;
  }

  private static Instant since(String rfc3339) {
    try {
      return rfc3339 == null ? null : Instant.parse(rfc3339);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
