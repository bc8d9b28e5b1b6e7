package io.gpupool.operator.inference;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Locale;

/**
 * The verification counters for inference cross-checks, labelled {@code kind="inference"}:
 * [gpupool_verification_intervals_total{kind,outcome}] checks by outcome (agreed, caught,
 * inconclusive), [gpupool_verification_disputes_total{kind,outcome}] disputes by what the filer
 * answered (opened, nothing_to_dispute, billing_off, failed), and
 * [gpupool_verification_gpu_seconds_total{kind}] the replicas' GPU time spent on canaries. Training
 * spot-checks count under {@code kind="training"} with the same names and labels.
 */
@ApplicationScoped
public class CrossCheckMetrics {
  static final String KIND = "inference";

  private final MeterRegistry registry;

  public CrossCheckMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void interval(String outcome) {
    Counter.builder("gpupool.verification.intervals")
        .description("Verification intervals (spot-checked or cross-checked) by outcome")
        .tag("kind", KIND)
        .tag("outcome", outcome.toLowerCase(Locale.ROOT))
        .register(registry)
        .increment();
  }

  void dispute(String outcome) {
    Counter.builder("gpupool.verification.disputes")
        .description("Disputes filed after a failed verification, by what the filer answered")
        .tag("kind", KIND)
        .tag("outcome", outcome.toLowerCase(Locale.ROOT))
        .register(registry)
        .increment();
  }

  void gpuSeconds(double seconds) {
    Counter.builder("gpupool.verification.gpu.seconds")
        .description("GPU-seconds spent on verification work")
        .tag("kind", KIND)
        .register(registry)
        .increment(seconds);
  }
}
