package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuPrice;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpuProviderSpec;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The operator against the Fabric8 mock API server: each kind is validated and given a status. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ReconcilersIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  @Inject KubernetesClient client;

  private static Optional<Condition> condition(List<Condition> conditions, String type) {
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  private static TrainingJob trainingJob(String name, int workers, Integer minWorkers) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/example/finetune:1.0";
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = workers;
    spec.parallelism.minWorkers = minWorkers;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    spec.resources = new io.gpupool.api.v1alpha1.GpuRequirements();
    spec.resources.gpuModels = java.util.List.of("NVIDIA-H200");
    job.setSpec(spec);
    return job;
  }

  private TrainingJob awaitTrainingJob(
      String name, java.util.function.Predicate<TrainingJob> done) {
    return await()
        .atMost(TIMEOUT)
        .until(
            () -> client.resources(TrainingJob.class).inNamespace("default").withName(name).get(),
            j -> j != null && j.getStatus() != null && done.test(j));
  }

  @Test
  void validTrainingJobIsAcceptedAndQueued() {
    client.resource(trainingJob("valid", 4, null)).create();
    TrainingJob job =
        awaitTrainingJob(
            "valid",
            j ->
                j.getStatus().phase == TrainingJobPhase.Pending
                    && condition(j.getStatus().conditions, "Scheduled").isPresent());
    assertThat(condition(job.getStatus().conditions, "SpecValid"))
        .get()
        .extracting(Condition::getStatus)
        .isEqualTo("True");
    assertThat(job.getStatus().observedGeneration).isEqualTo(job.getMetadata().getGeneration());
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client.v1().events().inNamespace("default").list().getItems().stream()
                    .anyMatch(
                        e ->
                            "valid".equals(e.getInvolvedObject().getName())
                                && "Pending".equals(e.getReason())));
  }

  @Test
  void invalidTrainingJobIsRefusedNamingTheField() {
    client.resource(trainingJob("too-few", 2, 3)).create();
    TrainingJob job =
        awaitTrainingJob(
            "too-few", j -> condition(j.getStatus().conditions, "SpecValid").isPresent());
    Condition valid = condition(job.getStatus().conditions, "SpecValid").orElseThrow();
    assertThat(valid.getStatus()).isEqualTo("False");
    assertThat(valid.getReason()).isEqualTo("InvalidSpec");
    assertThat(valid.getMessage())
        .contains("spec.parallelism.minWorkers")
        .contains("must not exceed workers");
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client.v1().events().inNamespace("default").list().getItems().stream()
                    .anyMatch(
                        e ->
                            "too-few".equals(e.getInvolvedObject().getName())
                                && "InvalidSpec".equals(e.getReason())
                                && "Warning".equals(e.getType())));
  }

  @Test
  void fixingAnInvalidJobRevalidatesIt() {
    client.resource(trainingJob("fixme", 2, 3)).create();
    awaitTrainingJob(
        "fixme",
        j ->
            condition(j.getStatus().conditions, "SpecValid")
                .map(c -> "False".equals(c.getStatus()))
                .orElse(false));
    client
        .resources(TrainingJob.class)
        .inNamespace("default")
        .withName("fixme")
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            "{\"spec\":{\"parallelism\":{\"minWorkers\":1}}}");
    awaitTrainingJob(
        "fixme",
        j ->
            condition(j.getStatus().conditions, "SpecValid")
                .map(c -> "True".equals(c.getStatus()))
                .orElse(false));
  }

  @Test
  void suspendedTrainingJobIsSuspended() {
    TrainingJob job = trainingJob("paused", 1, null);
    job.getSpec().suspend = true;
    client.resource(job).create();
    awaitTrainingJob("paused", j -> j.getStatus().phase == TrainingJobPhase.Suspended);
  }

  @Test
  void pipelineWithoutModelIsRefused() {
    TrainingJob job = trainingJob("no-model", 2, null);
    job.getSpec().parallelism.strategy =
        io.gpupool.api.v1alpha1.ParallelismStrategy.PipelineParallel;
    job.getSpec().model = null;
    client.resource(job).create();
    TrainingJob seen =
        awaitTrainingJob(
            "no-model", j -> condition(j.getStatus().conditions, "SpecValid").isPresent());
    assertThat(condition(seen.getStatus().conditions, "SpecValid").orElseThrow().getMessage())
        .contains("spec.model: Required value");
  }

  private static InferenceJob inferenceJob(String name, int min, int max, String parameters) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "vllm/vllm-openai:v0.6.0";
    spec.model = new ModelSpec();
    spec.model.parameters = parameters;
    spec.model.layers = 32;
    spec.replicas = new ReplicaRange();
    spec.replicas.min = min;
    spec.replicas.max = max;
    job.setSpec(spec);
    return job;
  }

  @Test
  void inferenceJobsAreValidated() {
    client.resource(inferenceJob("serve", 1, 4, "8B")).create();
    client.resource(inferenceJob("inverted", 3, 2, "8B")).create();
    client.resource(inferenceJob("garbled", 1, 2, "lots")).create();
    InferenceJob serve =
        await()
            .atMost(TIMEOUT)
            .until(
                () ->
                    client
                        .resources(InferenceJob.class)
                        .inNamespace("default")
                        .withName("serve")
                        .get(),
                j ->
                    j.getStatus() != null
                        && condition(j.getStatus().conditions, "SpecValid")
                            .map(c -> "True".equals(c.getStatus()))
                            .orElse(false)
                        && j.getStatus().desiredReplicas != null);
    assertThat(serve.getStatus().desiredReplicas).isEqualTo(1);
    assertThat(serve.getStatus().phase).isNotNull();
    InferenceJob inverted =
        await()
            .atMost(TIMEOUT)
            .until(
                () ->
                    client
                        .resources(InferenceJob.class)
                        .inNamespace("default")
                        .withName("inverted")
                        .get(),
                j ->
                    j.getStatus() != null
                        && condition(j.getStatus().conditions, "SpecValid").isPresent());
    assertThat(condition(inverted.getStatus().conditions, "SpecValid").orElseThrow().getMessage())
        .contains("spec.replicas.min");
    InferenceJob garbled =
        await()
            .atMost(TIMEOUT)
            .until(
                () ->
                    client
                        .resources(InferenceJob.class)
                        .inNamespace("default")
                        .withName("garbled")
                        .get(),
                j ->
                    j.getStatus() != null
                        && condition(j.getStatus().conditions, "SpecValid").isPresent());
    assertThat(condition(garbled.getStatus().conditions, "SpecValid").orElseThrow().getMessage())
        .contains("spec.model.parameters")
        .contains("\"lots\"");
  }

  @Test
  void providerStatusFollowsItsNodes() {
    GpuProvider provider = new GpuProvider();
    provider.setMetadata(new ObjectMetaBuilder().withName("alice").build());
    GpuProviderSpec spec = new GpuProviderSpec();
    spec.payoutAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    spec.region = "eu-west";
    GpuPrice price = new GpuPrice();
    price.gpuProduct = "NVIDIA-GeForce-RTX-4090";
    price.pricePerGpuHour = "0.40";
    spec.prices = List.of(price);
    provider.setSpec(spec);
    client.resource(provider).create();
    client
        .resource(
            TestNodes.gpuNode("alice-1", "alice", "NVIDIA-GeForce-RTX-4090", 2, 24564, "eu-west"))
        .create();
    client
        .resource(
            TestNodes.gpuNode("alice-2", "alice", "NVIDIA-A100-SXM4-80GB", 4, 81920, "eu-west"))
        .create();

    GpuProvider seen =
        await()
            .atMost(TIMEOUT)
            .until(
                () -> client.resources(GpuProvider.class).withName("alice").get(),
                p -> p.getStatus() != null && Integer.valueOf(2).equals(p.getStatus().nodes));
    assertThat(seen.getStatus().totalGpus).isEqualTo(6);
    assertThat(seen.getStatus().gpusByModel)
        .containsEntry("NVIDIA-GeForce-RTX-4090", 2)
        .containsEntry("NVIDIA-A100-SXM4-80GB", 4);
    Condition priced = condition(seen.getStatus().conditions, "Priced").orElseThrow();
    assertThat(priced.getStatus()).isEqualTo("False");
    assertThat(priced.getMessage()).contains("NVIDIA-A100-SXM4-80GB");

    var broken =
        TestNodes.gpuNode("alice-3", "alice", "NVIDIA-GeForce-RTX-4090", 2, 24564, "eu-west");
    broken.getMetadata().getLabels().put("nvidia.com/gpu.count", "many");
    client.resource(broken).create();
    GpuProvider withBroken =
        await()
            .atMost(TIMEOUT)
            .until(
                () -> client.resources(GpuProvider.class).withName("alice").get(),
                p -> condition(p.getStatus().conditions, "NodesReadable").isPresent());
    assertThat(
            condition(withBroken.getStatus().conditions, "NodesReadable")
                .orElseThrow()
                .getMessage())
        .contains("alice-3")
        .contains("nvidia.com/gpu.count is 'many'");
    assertThat(withBroken.getStatus().totalGpus).isEqualTo(6);

    client.nodes().withName("alice-2").delete();
    await()
        .atMost(TIMEOUT)
        .until(
            () -> client.resources(GpuProvider.class).withName("alice").get(),
            p -> Integer.valueOf(2).equals(p.getStatus().totalGpus));
  }
}
