package io.gpupool.operator.trust;

import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.provider.ReliabilityTracker;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.random.RandomGenerator;
import org.jboss.logging.Logger;

/**
 * What a verdict does once the {@link ChallengeRunner} has one: the {@link TrustLedger} records it
 * (quarantine, rating, the next random challenge), the provider's reliability score and the metrics
 * count it, the provider gets an event that says which way it went, and a wrong answer goes to
 * {@link ChallengeDisputes} as fraud evidence. Running challenges (when, where, timing) stays with
 * the runner; reporting their outcome lives here.
 */
final class ChallengeConclusions {
  private static final Logger LOG = Logger.getLogger(ChallengeConclusions.class);

  private final TrustLedger trust;
  private final ReliabilityTracker reliability;
  private final ChallengeMetrics metrics;
  private final ChallengeDisputes disputes;
  private final ProviderDirectory providers;
  private final EventRecorder events;
  private final RandomGenerator random;
  private final Duration meanInterval;

  ChallengeConclusions(
      TrustLedger trust,
      ReliabilityTracker reliability,
      ChallengeMetrics metrics,
      ChallengeDisputes disputes,
      ProviderDirectory providers,
      EventRecorder events,
      RandomGenerator random,
      Duration meanInterval) {
    this.trust = trust;
    this.reliability = reliability;
    this.metrics = metrics;
    this.disputes = disputes;
    this.providers = providers;
    this.events = events;
    this.random = random;
    this.meanInterval = meanInterval;
  }

  /**
   * Records {@code verdict} on the challenge {@code r} that ended at {@code now}, and reports it.
   */
  void conclude(ChallengeInFlight r, ChallengeVerdict verdict, Instant now) {
    // Exponentially distributed, so a provider cannot predict its next challenge.
    Duration next =
        Duration.ofMillis((long) (-Math.log(1 - random.nextDouble()) * meanInterval.toMillis()));
    double before = trust.speedFactor(r.node(), r.product());
    trust.record(r.node(), r.provider(), r.product(), verdict, now, next, r.heldGpuSeconds(now));
    metrics.outcome(r.provider(), verdict.outcome());
    String message = "node " + r.node() + ": " + verdict.message();
    if (verdict.outcome() == Outcome.PASSED) {
      reliability.challengePassed(r.provider());
      passed(r, verdict, before, message);
      return;
    }
    reliability.challengeFailed(r.provider());
    if (verdict.outcome() == Outcome.SLOWER) {
      message +=
          String.format(
              Locale.ROOT,
              "; speed corrected, not quarantined: planned at %.0f %% of %s and priced at %.0f %%"
                  + " of the provider's price until a challenge shows the claimed speed",
              verdict.speedFactor() * 100,
              r.product(),
              verdict.speedFactor() * 100);
      LOG.warnf("Node(%s): %s", r.node(), message);
      event(r.provider(), EventRecorder.WARNING, "ChallengeSpeedCorrected", message);
      return;
    }
    if (verdict.outcome() == Outcome.WRONG_RESULT || verdict.outcome() == Outcome.FAILED_OPENING) {
      // A commitment it cannot open is fraud evidence like a wrong digest: it committed to
      // products it will not show.
      message += "; node quarantined; fraud evidence goes to disputes";
      fileDisputes(r, verdict);
    } else {
      message += "; node quarantined: its GPUs are not what its labels claim";
    }
    LOG.warnf("Node(%s): challenge failed: %s", r.node(), message);
    event(r.provider(), EventRecorder.WARNING, "ChallengeFailed", message);
  }

  private void passed(
      ChallengeInFlight r, ChallengeVerdict verdict, double speedBefore, String message) {
    LOG.infof("Node(%s): challenge passed: %s", r.node(), verdict.message());
    if (speedBefore < 1 && verdict.speedFactor() == 1.0) {
      message +=
          String.format(
              Locale.ROOT,
              "; speed restored: planned and priced as %s again (was rated at %.0f %%)",
              r.product(),
              speedBefore * 100);
      event(r.provider(), EventRecorder.NORMAL, "ChallengeSpeedRestored", message);
      return;
    }
    event(r.provider(), EventRecorder.NORMAL, "ChallengePassed", message);
  }

  private void fileDisputes(ChallengeInFlight r, ChallengeVerdict verdict) {
    String evidence =
        "challenge nonce="
            + r.challenge().nonce()
            + " size="
            + r.challenge().size()
            + " rounds="
            + r.challenge().rounds()
            + " node="
            + r.node()
            + ": "
            + verdict.message();
    String node = r.node();
    disputes.file(
        r.provider(),
        node,
        evidence,
        "wrong hardware-challenge result on node " + node,
        outcome -> {
          LOG.warnf("Node(%s): %s", node, outcome);
          event(
              r.provider(),
              EventRecorder.WARNING,
              "ChallengeDispute",
              "node " + node + ": " + outcome);
        });
  }

  /** A Normal or Warning event on the provider's GpuProvider. */
  void event(String provider, String type, String reason, String message) {
    providers
        .provider(provider)
        .ifPresent(subject -> events.record(subject, type, reason, message));
  }
}
