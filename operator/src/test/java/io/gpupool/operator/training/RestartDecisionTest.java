package io.gpupool.operator.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.RestartPolicy;
import org.junit.jupiter.api.Test;

class RestartDecisionTest {
  @Test
  void neverFailsAtOnce() {
    RestartDecision d = RestartDecision.forFailure(RestartPolicy.Never, 1, 0, 3, "rank 0 failed");
    assertThat(d.restart()).isFalse();
    assertThat(d.reason()).isEqualTo("RestartPolicyNever");
  }

  @Test
  void exitCodePolicySeparatesPermanentFromRetryable() {
    assertThat(RestartDecision.forFailure(RestartPolicy.ExitCode, 1, 0, 3, "x").restart())
        .isFalse();
    assertThat(RestartDecision.forFailure(RestartPolicy.ExitCode, 127, 0, 3, "x").reason())
        .isEqualTo("PermanentExitCode");
    assertThat(RestartDecision.forFailure(RestartPolicy.ExitCode, 128, 0, 3, "x").restart())
        .isTrue();
    assertThat(RestartDecision.forFailure(RestartPolicy.ExitCode, 137, 0, 3, "x").restart())
        .isTrue();
    assertThat(RestartDecision.forFailure(RestartPolicy.ExitCode, null, 0, 3, "x").restart())
        .as("unknown exit (pod deleted) is retried")
        .isTrue();
  }

  @Test
  void onFailureRetriesWithinBackoffLimit() {
    assertThat(RestartDecision.forFailure(RestartPolicy.OnFailure, 1, 2, 3, "x").restart())
        .isTrue();
    RestartDecision exhausted =
        RestartDecision.forFailure(RestartPolicy.OnFailure, 1, 3, 3, "rank 1 failed");
    assertThat(exhausted.restart()).isFalse();
    assertThat(exhausted.reason()).isEqualTo("BackoffLimitExceeded");
    assertThat(exhausted.message()).contains("rank 1 failed").contains("backoffLimit 3");
    assertThat(RestartDecision.forFailure(null, 1, 0, 0, "x").restart())
        .as("default OnFailure, limit 0")
        .isFalse();
  }
}
