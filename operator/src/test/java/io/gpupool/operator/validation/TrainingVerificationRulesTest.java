package io.gpupool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.Checkpoint;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingVerification;
import io.gpupool.api.v1alpha1.TrainingVerificationMode;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The operator checks spec.verification again (for clusters that skip the CRD's bounds and CEL) and
 * names the field in SpecValid.
 */
class TrainingVerificationRulesTest {

  private static TrainingJob spotChecked(Double sampleRate, Double tolerance, boolean checkpoint) {
    TrainingJob job = SpecBoundsTest.training("t");
    job.getSpec().verification = new TrainingVerification();
    job.getSpec().verification.mode = TrainingVerificationMode.SpotCheck;
    job.getSpec().verification.sampleRate = sampleRate;
    job.getSpec().verification.tolerance = tolerance;
    job.getSpec().command = List.of("torchrun");
    job.getSpec().args = List.of("--nproc-per-node=1", "/workloads/ddp_train.py", "--steps", "20");
    if (checkpoint) {
      job.getSpec().checkpoint = new Checkpoint();
      job.getSpec().checkpoint.uri = "s3://bucket/run";
    }
    return job;
  }

  @Test
  void aSpotCheckedJobWithCheckpointsIsValid() {
    assertThat(TrainingJobValidator.validate(spotChecked(0.25, 1e-4, true)).list()).isEmpty();
    assertThat(TrainingJobValidator.validate(spotChecked(null, null, true)).list()).isEmpty();
  }

  @Test
  void spotChecksNeedCheckpoints() {
    assertThat(TrainingJobValidator.validate(spotChecked(0.25, 1e-4, false)).list())
        .singleElement()
        .asString()
        .contains("spec.verification.mode")
        .contains("set spec.checkpoint");
  }

  @Test
  void spotChecksNeedAPythonScriptAVerifierCanReplay() {
    TrainingJob noScript = spotChecked(0.25, 1e-4, true);
    noScript.getSpec().command = List.of("/opt/train/run.sh");
    noScript.getSpec().args = List.of("--steps", "20");
    assertThat(TrainingJobValidator.validate(noScript).list())
        .singleElement()
        .asString()
        .contains("spec.verification.mode")
        .contains("no Python script");

    TrainingJob imageEntrypoint = spotChecked(0.25, 1e-4, true);
    imageEntrypoint.getSpec().command = null;
    imageEntrypoint.getSpec().args = null;
    assertThat(TrainingJobValidator.validate(imageEntrypoint).list())
        .singleElement()
        .asString()
        .contains("no Python script");

    TrainingJob scriptAsCommand = spotChecked(0.25, 1e-4, true);
    scriptAsCommand.getSpec().command = List.of("python3", "/workloads/ddp_train.py");
    scriptAsCommand.getSpec().args = null;
    assertThat(TrainingJobValidator.validate(scriptAsCommand).list()).isEmpty();

    TrainingJob unchecked = spotChecked(0.25, 1e-4, true);
    unchecked.getSpec().verification.mode = TrainingVerificationMode.None;
    unchecked.getSpec().command = List.of("/opt/train/run.sh");
    assertThat(TrainingJobValidator.validate(unchecked).list()).isEmpty();
  }

  @Test
  void sampleRateAndToleranceMustBeAboveZeroAndAtMostOne() {
    for (double bad : new double[] {0, -0.1, 1.01, Double.NaN}) {
      assertThat(TrainingJobValidator.validate(spotChecked(bad, 1e-4, true)).list())
          .singleElement()
          .asString()
          .contains("spec.verification.sampleRate");
      assertThat(TrainingJobValidator.validate(spotChecked(0.5, bad, true)).list())
          .singleElement()
          .asString()
          .contains("spec.verification.tolerance");
    }
  }

  @Test
  void theDefaultsAreTheSchemaDefaults() {
    TrainingVerification v = new TrainingVerification();
    assertThat(v.spotCheck()).isFalse();
    assertThat(v.sampleRateOrDefault()).isEqualTo(0.1);
    assertThat(v.toleranceOrDefault()).isEqualTo(1e-4);
  }
}
