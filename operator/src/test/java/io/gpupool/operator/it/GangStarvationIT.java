package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * The head reservation outside GpuQueues through the reconcile path on the mock API server: an
 * 8-GPU gang behind a node full of 1-GPU jobs, with more 1-GPU jobs waiting. Once the gang has
 * waited {@code gpupool.planner.hold-after} it holds the node's GPUs as they free; the small jobs
 * say they wait behind it and go only to a node the gang cannot use; the gang is placed when the
 * last job on its node ends.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(GangStarvationIT.ShortHold.class)
class GangStarvationIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String NS = "default";
  private static final String REGION = "r-starve";
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";
  private static final String PROVIDER = "prov-starve";

  /** The gang becomes the head after 3 s instead of 2 minutes. */
  public static class ShortHold implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("gpupool.planner.hold-after", "3s");
    }
  }

  @Inject KubernetesClient client;

  private FakeKubelet kubelet() {
    return new FakeKubelet(client);
  }

  /** One worker of {@code gpus} GPUs. */
  private static TrainingJob job(String name, int gpus) {
    TrainingJob job = TestJobs.training(NS, name, REGION, 1);
    job.getSpec().parallelism.gpusPerWorker = gpus;
    return job;
  }

  private TrainingJob get(String name) {
    return client.resources(TrainingJob.class).inNamespace(NS).withName(name).get();
  }

  private TrainingJob awaitJob(String name, Predicate<TrainingJob> done) {
    try {
      return await()
          .atMost(TIMEOUT)
          .until(() -> get(name), j -> j != null && j.getStatus() != null && done.test(j));
    } catch (ConditionTimeoutException e) {
      TrainingJob j = get(name);
      throw new AssertionError(
          e.getMessage() + "\n" + name + ": " + (j == null ? null : scheduled(j)), e);
    }
  }

  private static Condition scheduled(TrainingJob job) {
    return job.getStatus().conditions.stream()
        .filter(c -> "Scheduled".equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  private static Predicate<TrainingJob> message(String part) {
    return j -> scheduled(j) != null && scheduled(j).getMessage().contains(part);
  }

  private static Predicate<TrainingJob> phase(TrainingJobPhase phase) {
    return j -> j.getStatus().phase == phase;
  }

  private Pod runningPod(String job) {
    List<Pod> pods =
        await().atMost(TIMEOUT).until(() -> kubelet().pods(NS, job), p -> p.size() == 1);
    kubelet().run(pods.get(0));
    awaitJob(job, phase(TrainingJobPhase.Running));
    return pods.get(0);
  }

  @Test
  void theGangHoldsTheGpusItNeedsAsTheyFreeAndTheSmallJobsWaitBehindIt() {
    client.resource(TestNodes.provider(PROVIDER, A100, "1.50")).create();
    client.resource(TestNodes.gpuNode("starve-big", PROVIDER, A100, 8, 81920, REGION)).create();
    List<Pod> small =
        IntStream.range(0, 8)
            .mapToObj(
                i -> {
                  client.resource(job("small-" + i, 1)).create();
                  return runningPod("small-" + i);
                })
            .toList();

    client.resource(job("gang", 8)).create();
    awaitJob("gang", message("holds a reservation"));
    List<String> later = List.of("later-0", "later-1", "later-2");
    later.forEach(name -> client.resource(job(name, 1)).create());
    later.forEach(name -> awaitJob(name, phase(TrainingJobPhase.Pending)));

    // A GPU frees: held for the gang, not taken by a later job.
    kubelet().succeed(small.get(0));
    awaitJob("small-0", phase(TrainingJobPhase.Succeeded));
    awaitJob("gang", message("1 of 8 GPUs held"));
    TrainingJob heldBack = awaitJob("later-0", message("waits behind TrainingJob/default/gang"));
    assertThat(heldBack.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);

    // A 2-GPU node the gang cannot use joins: later jobs are placed there meanwhile.
    client.resource(TestNodes.gpuNode("starve-small", PROVIDER, A100, 2, 81920, REGION)).create();
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                later.stream()
                    .map(this::get)
                    .filter(j -> j.getStatus().placements != null)
                    .map(j -> j.getStatus().placements.get(0).node)
                    .toList(),
            nodes -> nodes.size() == 2 && nodes.stream().allMatch("starve-small"::equals));

    // The last jobs on its node end: the gang is placed there, the third later job still waits.
    small.subList(1, 8).forEach(kubelet()::succeed);
    TrainingJob gang = awaitJob("gang", phase(TrainingJobPhase.Scheduled));
    assertThat(gang.getStatus().placements).extracting(p -> p.node).containsOnly("starve-big");
    assertThat(
            later.stream()
                .map(this::get)
                .filter(j -> j.getStatus().phase == TrainingJobPhase.Pending)
                .count())
        .isEqualTo(1);
  }
}
