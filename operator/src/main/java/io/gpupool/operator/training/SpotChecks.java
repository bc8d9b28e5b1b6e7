package io.gpupool.operator.training;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.verification.CheckPlacer;
import io.gpupool.operator.verification.SamplingSecret;
import io.gpupool.operator.verification.SpotCheckRunner;
import io.gpupool.operator.verification.VerificationMetrics;
import io.gpupool.operator.workload.JobBinding;
import jakarta.inject.Singleton;

/**
 * The trust hooks of TrainingJobs: what their spot checks need (a node for each verifier, the trust
 * ledger that quarantines a cheat, fraud disputes on the chain, the sampling secret), handed to the
 * controller as one {@link SpotCheckRunner}.
 */
@Singleton
public class SpotChecks {
  private final KubernetesClient client;
  private final CheckPlacer placer;
  private final TrustLedger trust;
  private final FraudDisputes disputes;
  private final EventRecorder events;
  private final VerificationMetrics metrics;
  private final SamplingSecret secret;

  public SpotChecks(
      KubernetesClient client,
      CheckPlacer placer,
      TrustLedger trust,
      FraudDisputes disputes,
      EventRecorder events,
      VerificationMetrics metrics,
      SamplingSecret secret) {
    this.client = client;
    this.placer = placer;
    this.trust = trust;
    this.disputes = disputes;
    this.events = events;
    this.metrics = metrics;
    this.secret = secret;
  }

  /**
   * The runner of the controller's spot checks.
   *
   * @param binding creates a verification pod as it creates a gang: its billing terms recorded
   *     first, off the reconcile thread
   */
  SpotCheckRunner runner(JobBinding<TrainingJob> binding) {
    return new SpotCheckRunner(
        client, placer, trust, disputes, events, metrics, secret.bytes(), binding);
  }
}
