package io.gpupool.operator.training;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.verification.CheckPlacer;
import io.gpupool.operator.verification.SamplingSecret;
import io.gpupool.operator.verification.SpotCheckRunner;
import io.gpupool.operator.verification.VerificationMetrics;
import jakarta.inject.Singleton;
import java.util.function.BiFunction;
import java.util.function.Consumer;

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
   * @param billingTerms writes the billing terms on a verification pod, as on a rank's
   * @param created shows a pod just created to the controller's pod reads
   */
  SpotCheckRunner runner(BiFunction<TrainingJob, Pod, Pod> billingTerms, Consumer<Pod> created) {
    return new SpotCheckRunner(
        client, placer, trust, disputes, events, metrics, secret.bytes(), billingTerms, created);
  }
}
