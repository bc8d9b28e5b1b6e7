package io.gpupool.operator.verification;

import io.gpupool.operator.billing.DisputeFiling;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.Locale;

/**
 * Verification of paid work, shared by training spot-checks (kind "training") and inference
 * cross-checks (kind "inference"): checks by outcome [gpupool_verification_intervals_total],
 * disputes by outcome [gpupool_verification_disputes_total] and the GPU time verification used
 * [gpupool_verification_gpu_seconds_total]. The dashboard's verification row and the
 * GpupoolVerificationFoundFraud alert read these. The inference side counts the same series
 * (inference/CrossCheckMetrics, same names and descriptions: a meter is registered once by name).
 */
@ApplicationScoped
public class VerificationMetrics {
  /** Label value of training spot-checks. */
  public static final String TRAINING = "training";

  /** Label value of inference cross-checks. */
  public static final String INFERENCE = "inference";

  /** Outcomes of a training spot-check (gpu-scheduler verify/: judgement, then referee). */
  public static final List<String> TRAINING_OUTCOMES =
      List.of(
          "verified",
          "provider_at_fault",
          "verifier_at_fault",
          "inconclusive",
          "broken_commitment");

  private final MeterRegistry registry;

  public VerificationMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /**
   * Every training series exists from the start at 0, so that rates and the dashboard's
   * verification row read "none yet" instead of "no data" (the usual practice for counters with
   * known labels).
   */
  void start(@Observes StartupEvent ignored) {
    initialize();
  }

  void initialize() {
    for (String outcome : TRAINING_OUTCOMES) {
      intervals(TRAINING, outcome);
    }
    for (DisputeFiling.Outcome outcome : DisputeFiling.Outcome.values()) {
      disputes(TRAINING, outcome);
    }
    gpuSecondsCounter(TRAINING);
  }

  /**
   * One check concluded.
   *
   * @param outcome e.g. verified, provider_at_fault, verifier_at_fault, inconclusive,
   *     broken_commitment
   */
  public void checked(String kind, String outcome) {
    intervals(kind, outcome).increment();
  }

  /** A dispute filed after a check proved fraud, by what became of it. */
  public void disputed(String kind, DisputeFiling.Outcome outcome) {
    disputes(kind, outcome).increment();
  }

  /** GPU-seconds of verifier and referee work (charged to the payer, shown apart). */
  public void gpuSeconds(String kind, double seconds) {
    if (!(seconds > 0) || Double.isInfinite(seconds)) {
      return;
    }
    gpuSecondsCounter(kind).increment(seconds);
  }

  private Counter intervals(String kind, String outcome) {
    return Counter.builder("gpupool.verification.intervals")
        .description("Verification intervals (spot-checked or cross-checked) by outcome")
        .tags("kind", kind, "outcome", outcome)
        .register(registry);
  }

  private Counter disputes(String kind, DisputeFiling.Outcome outcome) {
    return Counter.builder("gpupool.verification.disputes")
        .description("Disputes filed after a failed verification, by what the filer answered")
        .tags("kind", kind, "outcome", outcome.name().toLowerCase(Locale.ROOT))
        .register(registry);
  }

  private Counter gpuSecondsCounter(String kind) {
    return Counter.builder("gpupool.verification.gpu.seconds")
        .description("GPU-seconds spent on verification work")
        .tags("kind", kind)
        .register(registry);
  }
}
