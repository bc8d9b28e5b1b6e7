package io.gpupool.operator.validation;

import io.gpupool.api.v1alpha1.CanaryComparison;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceVerification;

/**
 * The checks of an InferenceJob's {@code spec.verification} that its CRD schema and CEL rules make
 * too, repeated here for API servers that do not enforce them (the mock server in tests, an old
 * CRD).
 */
final class VerificationRules {
  private VerificationRules() {}

  static void check(SpecProblems p, InferenceJobSpec spec) {
    InferenceVerification v = spec.verification;
    if (v == null) {
      return;
    }
    p.checkRange(
        "spec.verification.canaryIntervalSeconds",
        v.canaryIntervalSeconds,
        InferenceVerification.MIN_INTERVAL_SECONDS,
        86400);
    p.checkRange(
        "spec.verification.canariesPerCheck",
        v.canariesPerCheck,
        1,
        InferenceVerification.MAX_CANARIES_PER_CHECK);
    p.checkRange("spec.verification.maxTokens", v.maxTokens, 1, 64);
    if (v.tolerance != null) {
      if (v.compareOrDefault() != CanaryComparison.Logprob) {
        p.add(
            "spec.verification.tolerance", "Forbidden: tolerance applies to compare: Logprob only");
      } else if (!(v.tolerance >= 0 && v.tolerance <= 10)) {
        p.add(
            "spec.verification.tolerance",
            "Invalid value: " + v.tolerance + ": must be between 0 and 10");
      }
    }
    int min = spec.replicas == null || spec.replicas.min == null ? 1 : spec.replicas.min;
    if (v.crossChecks() && min < 2) {
      p.add(
          "spec.replicas.min",
          "Invalid value: "
              + min
              + ": verification.mode CrossCheck compares replicas on different providers:"
              + " replicas.min must be at least 2 (3 or more to tell which replica is wrong)");
    }
  }
}
