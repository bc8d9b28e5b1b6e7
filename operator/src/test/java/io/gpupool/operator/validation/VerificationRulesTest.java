package io.gpupool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.CanaryComparison;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceVerification;
import io.gpupool.api.v1alpha1.InferenceVerificationMode;
import io.gpupool.api.v1alpha1.ReplicaRange;
import java.util.List;
import org.junit.jupiter.api.Test;

/** spec.verification: what the CRD refuses, the operator refuses too, naming the field. */
class VerificationRulesTest {
  private static InferenceJobSpec spec(int min, InferenceVerification v) {
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.replicas = new ReplicaRange();
    spec.replicas.min = min;
    spec.replicas.max = 4;
    spec.verification = v;
    return spec;
  }

  private static InferenceVerification crossCheck() {
    InferenceVerification v = new InferenceVerification();
    v.mode = InferenceVerificationMode.CrossCheck;
    return v;
  }

  private static List<String> problems(InferenceJobSpec spec) {
    SpecProblems p = new SpecProblems();
    VerificationRules.check(p, spec);
    return p.list();
  }

  @Test
  void crossCheckOverThreeReplicasAndNoVerificationPass() {
    assertThat(problems(spec(3, crossCheck()))).isEmpty();
    assertThat(problems(spec(1, null))).isEmpty();
    InferenceVerification off = new InferenceVerification();
    off.mode = InferenceVerificationMode.None;
    assertThat(problems(spec(1, off))).isEmpty();
  }

  @Test
  void crossCheckOfASingleReplicaIsRefused() {
    assertThat(problems(spec(1, crossCheck())))
        .singleElement()
        .satisfies(m -> assertThat(m).startsWith("spec.replicas.min: Invalid value: 1"));
  }

  @Test
  void toleranceWithoutLogprobAndUnboundedCanariesAreRefused() {
    InferenceVerification v = crossCheck();
    v.tolerance = 0.1;
    v.canariesPerCheck = 9;
    v.canaryIntervalSeconds = 1;
    assertThat(problems(spec(2, v)))
        .anySatisfy(m -> assertThat(m).startsWith("spec.verification.tolerance: Forbidden"))
        .anySatisfy(m -> assertThat(m).startsWith("spec.verification.canariesPerCheck"))
        .anySatisfy(m -> assertThat(m).startsWith("spec.verification.canaryIntervalSeconds"));
    v = crossCheck();
    v.compare = CanaryComparison.Logprob;
    v.tolerance = 0.1;
    assertThat(problems(spec(2, v))).isEmpty();
  }
}
