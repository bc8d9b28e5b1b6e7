package io.gpupool.operator.validation;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.Autoscaling;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import org.junit.jupiter.api.Test;

/**
 * The operator refuses, with a SpecValid condition, the values issue #18 found wedging a reconcile
 * (on clusters that do not run the CRD's CEL rules or bounds).
 */
class SpecBoundsTest {

  static TrainingJob training(String name) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns").build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "img";
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = 2;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    job.setSpec(spec);
    return job;
  }

  static InferenceJob inference(String name) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("ns").build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "img";
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    spec.replicas = new ReplicaRange();
    spec.replicas.min = 1;
    spec.replicas.max = 2;
    job.setSpec(spec);
    return job;
  }

  @Test
  void aValidJobHasNoProblems() {
    assertThat(TrainingJobValidator.validate(training("pretrain-13b")).list()).isEmpty();
    assertThat(InferenceJobValidator.validate(inference("serve-70b")).list()).isEmpty();
  }

  @Test
  void activeDeadlineBeyondAYearIsRefused() {
    TrainingJob job = training("t");
    job.getSpec().activeDeadlineSeconds = 9_000_000_000_000_000_000L;
    assertThat(TrainingJobValidator.validate(job).summary())
        .startsWith(
            "spec.activeDeadlineSeconds: Invalid value: 9000000000000000000: must be between");
    job.getSpec().activeDeadlineSeconds = 366L * 24 * 3600;
    assertThat(TrainingJobValidator.validate(job).isEmpty()).isTrue();
  }

  @Test
  void namesThatCannotNameTheirPodsAndServicesAreRefused() {
    String fifty = "a".repeat(50);
    assertThat(TrainingJobValidator.validate(training(fifty)).isEmpty()).isTrue();
    assertThat(TrainingJobValidator.validate(training(fifty + "b")).summary())
        .startsWith("metadata.name: Too long: may not be more than 50 characters");
    assertThat(InferenceJobValidator.validate(inference("a".repeat(64))).summary())
        .startsWith("metadata.name: Too long");
    assertThat(TrainingJobValidator.validate(training("9lives")).summary())
        .contains("metadata.name: Invalid value: \"9lives\": must be a DNS-1035 label");
    assertThat(InferenceJobValidator.validate(inference("a.b")).summary())
        .contains("must be a DNS-1035 label");
  }

  @Test
  void metricsPathMustBeAPlainPath() {
    InferenceJob job = inference("s");
    job.getSpec().autoscaling = new Autoscaling();
    job.getSpec().autoscaling.metricsPath = "/metrics x";
    assertThat(InferenceJobValidator.validate(job).summary())
        .isEqualTo(
            "spec.autoscaling.metricsPath: Invalid value: \"/metrics x\": expected a path such as"
                + " /metrics");
    job.getSpec().autoscaling.metricsPath = "/v1/metrics";
    assertThat(InferenceJobValidator.validate(job).isEmpty()).isTrue();
  }

  @Test
  void priceCeilingIsBounded() {
    TrainingJob job = training("t");
    job.getSpec().placement = new PlacementPolicy();
    job.getSpec().placement.maxPricePerGpuHour = "1" + "0".repeat(400);
    assertThat(TrainingJobValidator.validate(job).summary())
        .startsWith("spec.placement.maxPricePerGpuHour: Invalid value:");
    job.getSpec().placement.maxPricePerGpuHour = "999999.5";
    assertThat(TrainingJobValidator.validate(job).isEmpty()).isTrue();
  }
}
