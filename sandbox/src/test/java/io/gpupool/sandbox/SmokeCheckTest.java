package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SmokeCheckTest {

  private static GenericKubernetesResource resource(String apiVersion, String kind) {
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(apiVersion)
        .withKind(kind)
        .withNewMetadata()
        .withName(kind.toLowerCase())
        .endMetadata()
        .build();
  }

  @Test
  void waitsOnlyForGpupoolJobs() {
    List<HasMetadata> applied =
        List.of(
            resource("gpupool.io/v1alpha1", "TrainingJob"),
            resource("gpupool.io/v1alpha1", "InferenceJob"),
            resource("gpupool.io/v1alpha1", "GpuProvider"),
            resource("batch/v1", "Job"),
            new ConfigMapBuilder().withNewMetadata().withName("c").endMetadata().build());

    assertThat(SmokeCheck.jobs(applied))
        .extracting(HasMetadata::getKind)
        .containsExactly("TrainingJob", "InferenceJob");
  }

  @Test
  void aPhaseCountsOnlyWhenTheOperatorWroteOne() {
    GenericKubernetesResource job = resource("gpupool.io/v1alpha1", "TrainingJob");
    assertThat(SmokeCheck.phase(null)).isNull();
    assertThat(SmokeCheck.phase(job)).isNull();

    job.setAdditionalProperty("status", Map.of("phase", ""));
    assertThat(SmokeCheck.phase(job)).isNull();

    job.setAdditionalProperty("status", Map.of("phase", "Running"));
    assertThat(SmokeCheck.phase(job)).isEqualTo("Running");
  }

  @Test
  void aJobTheOperatorRefusedFailsTheCheck() {
    GenericKubernetesResource job = resource("gpupool.io/v1alpha1", "TrainingJob");
    job.setAdditionalProperty(
        "status",
        Map.of(
            "phase",
            "Pending",
            "conditions",
            List.of(
                Map.of("type", "Scheduled", "status", "False", "reason", "Unschedulable"),
                Map.of(
                    "type",
                    "Funded",
                    "status",
                    "False",
                    "reason",
                    "BudgetRequired",
                    "message",
                    "name one in spec.budget.account"))));
    assertThat(SmokeCheck.refusal(job))
        .isEqualTo("Funded=False BudgetRequired: name one in spec.budget.account");

    job.setAdditionalProperty(
        "status",
        Map.of(
            "phase",
            "Pending",
            "conditions",
            List.of(
                Map.of("type", "Funded", "status", "False", "reason", "BillingChainUnavailable"))));
    assertThat(SmokeCheck.refusal(job)).as("the chain answers again: waited on").isNull();

    job.setAdditionalProperty(
        "status",
        Map.of(
            "phase",
            "Running",
            "conditions",
            List.of(Map.of("type", "Funded", "status", "True", "reason", "Funded"))));
    assertThat(SmokeCheck.refusal(job)).isNull();
    assertThat(SmokeCheck.refusal(null)).isNull();
  }
}
