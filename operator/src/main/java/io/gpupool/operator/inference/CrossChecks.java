package io.gpupool.operator.inference;

import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.trust.TrustLedger;
import jakarta.inject.Singleton;
import java.security.SecureRandom;

/**
 * The trust hooks of InferenceJobs: canaries sent to replicas, a fraud dispute on the chain and a
 * quarantine for a node found answering wrong, handed to the controller as one {@link
 * CrossChecker}.
 */
@Singleton
public class CrossChecks {
  private final CanaryClient canaries;
  private final FraudDisputes disputes;
  private final TrustLedger trust;
  private final CrossCheckMetrics metrics;

  public CrossChecks(
      CanaryClient canaries, FraudDisputes disputes, TrustLedger trust, CrossCheckMetrics metrics) {
    this.canaries = canaries;
    this.disputes = disputes;
    this.trust = trust;
    this.metrics = metrics;
  }

  /** The controller's cross-checker; which replicas are compared is drawn at random. */
  CrossChecker checker(EventRecorder events) {
    return new CrossChecker(
        canaries,
        disputes,
        trust::quarantineForWork,
        events,
        metrics,
        new SecureRandom()::nextLong);
  }
}
