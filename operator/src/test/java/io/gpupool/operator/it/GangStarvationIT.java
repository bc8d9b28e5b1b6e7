package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Checkpoint;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ParallelismStrategy;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * A gang outside any GpuQueue is not starved by smaller jobs: once it has waited longer than {@code
 * gpupool.planner.hold-after}, GPUs that free up are held for it, and a one-GPU job that comes
 * later waits behind it instead of taking each GPU as it frees (what kept 3-worker gangs waiting
 * for the whole chaos soak).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(GangStarvationIT.QuickHold.class)
class GangStarvationIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String NS = "default";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";

  /** Holds start one second into a wait, so the test does not wait minutes. */
  public static class QuickHold implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("gpupool.planner.hold-after", "1s");
    }
  }

  @Inject KubernetesClient client;

  private FakeKubelet kubelet() {
    return new FakeKubelet(client);
  }

  private void pool(String region, int nodes) {
    String provider = "prov-" + region;
    client.resource(TestNodes.provider(provider, RTX4090, "0.40")).create();
    for (int i = 0; i < nodes; i++) {
      client
          .resource(TestNodes.gpuNode(region + "-" + i, provider, RTX4090, 1, 24564, region))
          .create();
    }
  }

  private static TrainingJob job(String name, String region, int workers) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/example/train:1";
    spec.parallelism = new Parallelism();
    spec.parallelism.strategy = ParallelismStrategy.DataParallel;
    spec.parallelism.workers = workers;
    spec.parallelism.gpusPerWorker = 1;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    spec.model.globalBatchSize = 64;
    spec.resources = new GpuRequirements();
    spec.placement = new PlacementPolicy();
    spec.placement.regions = List.of(region);
    spec.checkpoint = new Checkpoint();
    spec.checkpoint.uri = "s3://ckpt/" + name;
    job.setSpec(spec);
    return job;
  }

  private TrainingJob awaitJob(String name, Predicate<TrainingJob> done) {
    try {
      return await()
          .atMost(TIMEOUT)
          .until(
              () -> client.resources(TrainingJob.class).inNamespace(NS).withName(name).get(),
              j -> j != null && j.getStatus() != null && done.test(j));
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "\n" + describe(name), e);
    }
  }

  private String describe(String name) {
    TrainingJob j = client.resources(TrainingJob.class).inNamespace(NS).withName(name).get();
    if (j == null || j.getStatus() == null) {
      return name + ": no status";
    }
    StringBuilder out = new StringBuilder(name + ": phase=" + j.getStatus().phase);
    j.getStatus()
        .conditions
        .forEach(
            c ->
                out.append("\n  ")
                    .append(c.getType())
                    .append('=')
                    .append(c.getStatus())
                    .append(' ')
                    .append(c.getReason())
                    .append(": ")
                    .append(c.getMessage()));
    return out.toString();
  }

  private static Predicate<TrainingJob> phase(TrainingJobPhase phase) {
    return j -> j.getStatus().phase == phase;
  }

  private static Predicate<TrainingJob> scheduledMessage(String fragment) {
    return j -> {
      Condition c = condition(j, "Scheduled");
      return c != null && c.getMessage() != null && c.getMessage().contains(fragment);
    };
  }

  private static Condition condition(TrainingJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  private List<Pod> awaitPods(String job, int size) {
    return await()
        .atMost(TIMEOUT)
        .until(
            () ->
                kubelet().pods(NS, job).stream()
                    .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                    .toList(),
            pods -> pods.size() == size);
  }

  private void runToSuccess(String job) {
    List<Pod> pods = awaitPods(job, 1);
    pods.forEach(kubelet()::succeed);
    awaitJob(job, phase(TrainingJobPhase.Succeeded));
  }

  @Test
  void aWaitingGangGetsTheGpusThatFreeUpBeforeSmallerJobsThatCameLater() {
    pool("r-starve", 3);
    for (String small : List.of("small-a", "small-b", "small-c")) {
      client.resource(job(small, "r-starve", 1)).create();
      awaitPods(small, 1).forEach(kubelet()::run);
    }
    client.resource(job("gang", "r-starve", 3)).create();
    // Once it has waited past hold-after, GPUs are held for it as they free up.
    awaitJob("gang", scheduledMessage("held for it"));

    client.resource(job("small-late", "r-starve", 1)).create();
    awaitJob("small-late", scheduledMessage("held for TrainingJob default/gang"));
    runToSuccess("small-a");
    runToSuccess("small-b");
    runToSuccess("small-c");

    // Without the hold, small-late took small-a's GPU and the gang could never start.
    TrainingJob gang = awaitJob("gang", phase(TrainingJobPhase.Scheduled));
    assertThat(gang.getStatus().placements).hasSize(3);
    assertThat(client.resources(TrainingJob.class).inNamespace(NS).withName("small-late").get())
        .extracting(j -> j.getStatus().phase)
        .isEqualTo(TrainingJobPhase.Pending);

    // The gang's end frees its GPUs, and the job that waited behind it goes next.
    awaitPods("gang", 3).forEach(kubelet()::succeed);
    awaitJob("gang", phase(TrainingJobPhase.Succeeded));
    awaitJob("small-late", phase(TrainingJobPhase.Scheduled));
  }
}
