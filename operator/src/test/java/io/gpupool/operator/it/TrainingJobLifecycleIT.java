package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Checkpoint;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ParallelismStrategy;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.RestartPolicy;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.operator.allocation.AllocationLedger;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Every TrainingJob transition against the mock API server: placement, running, success, each
 * restart policy, node loss and repair, waiting for capacity, suspend/resume, deadline, deletion
 * and many jobs competing for the same GPUs. Each test owns a region so tests never share nodes.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class TrainingJobLifecycleIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String NS = "default";
  private static final String RTX4090 = "NVIDIA-GeForce-RTX-4090";
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";

  @Inject KubernetesClient client;
  @Inject AllocationLedger ledger;

  private FakeKubelet kubelet() {
    return new FakeKubelet(client);
  }

  private void pool(String region, String product, int nodes, int gpusEach, int memoryMiB) {
    String provider = "prov-" + region;
    if (client.resources(io.gpupool.api.v1alpha1.GpuProvider.class).withName(provider).get()
        == null) {
      client
          .resource(
              TestNodes.provider(
                  provider, RTX4090, "0.40", A100, "1.50", "NVIDIA-H100-80GB-HBM3", "2.50"))
          .create();
    }
    for (int i = 0; i < nodes; i++) {
      client
          .resource(
              TestNodes.gpuNode(
                  region + "-" + product.hashCode() % 100 + "-" + i,
                  provider,
                  product,
                  gpusEach,
                  memoryMiB,
                  region))
          .create();
    }
  }

  private static TrainingJob job(String name, String region, int workers, int gpusEach) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(NS).build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/example/train:1";
    spec.parallelism = new Parallelism();
    spec.parallelism.strategy = ParallelismStrategy.DataParallel;
    spec.parallelism.workers = workers;
    spec.parallelism.gpusPerWorker = gpusEach;
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

  /** What the job and its pods look like, for a wait that timed out. */
  private String describe(String name) {
    TrainingJob j = client.resources(TrainingJob.class).inNamespace(NS).withName(name).get();
    StringBuilder out = new StringBuilder();
    if (j != null && j.getStatus() != null) {
      out.append("phase=")
          .append(j.getStatus().phase)
          .append(" restarts=")
          .append(j.getStatus().restarts)
          .append(" placements=")
          .append(j.getStatus().placements == null ? 0 : j.getStatus().placements.size());
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
    }
    kubelet()
        .pods(NS, name)
        .forEach(
            p ->
                out.append("\n  pod ")
                    .append(p.getMetadata().getName())
                    .append(" rv=")
                    .append(p.getMetadata().getResourceVersion())
                    .append(' ')
                    .append(p.getStatus() == null ? null : p.getStatus().getPhase())
                    .append(p.getMetadata().getDeletionTimestamp() == null ? "" : " deleting"));
    return out.toString();
  }

  private static Predicate<TrainingJob> phase(TrainingJobPhase phase) {
    return j -> j.getStatus().phase == phase;
  }

  private static Condition condition(TrainingJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> type.equals(c.getType()))
        .findFirst()
        .orElse(null);
  }

  private List<Pod> generation(String job, int generation) {
    return kubelet().pods(NS, job).stream()
        .filter(
            p ->
                Integer.toString(generation)
                    .equals(p.getMetadata().getLabels().get("gpupool.io/gang-generation")))
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .collect(Collectors.toList());
  }

  private List<Pod> awaitGang(String job, int generation, int size) {
    return await()
        .atMost(TIMEOUT)
        .until(() -> generation(job, generation), pods -> pods.size() == size);
  }

  /**
   * A JSON merge patch, as kubectl patch --type=merge sends it: no resourceVersion to conflict on.
   */
  private void mergePatch(String namespace, String name, String json) {
    client
        .resources(TrainingJob.class)
        .inNamespace(namespace)
        .withName(name)
        .patch(
            io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
                io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
            json);
  }

  private static Map<String, String> env(Pod pod) {
    Map<String, String> env = new HashMap<>();
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      env.put(e.getName(), e.getValue());
    }
    return env;
  }

  @Test
  void dataParallelGangRunsAndSucceeds() {
    pool("r-dp", RTX4090, 4, 1, 24564);
    client.resource(job("dp", "r-dp", 4, 1)).create();
    TrainingJob scheduled = awaitJob("dp", phase(TrainingJobPhase.Scheduled));
    assertThat(scheduled.getStatus().placements).hasSize(4);
    assertThat(scheduled.getStatus().plan.strategy).isEqualTo("DataParallel");
    assertThat(scheduled.getStatus().plan.totalGpus).isEqualTo(4);
    assertThat(condition(scheduled, "Scheduled").getStatus()).isEqualTo("True");

    List<Pod> pods = awaitGang("dp", 0, 4);
    assertThat(pods).extracting(p -> p.getSpec().getNodeName()).doesNotHaveDuplicates();
    assertThat(env(pods.get(0)))
        .containsEntry("WORLD_SIZE", "4")
        .containsKey("GPUPOOL_BATCH_SHARE")
        .containsEntry("MASTER_PORT", "29500");
    assertThat(client.services().inNamespace(NS).withName("dp").get().getSpec().getClusterIP())
        .isEqualTo("None");

    pods.forEach(kubelet()::run);
    TrainingJob running = awaitJob("dp", phase(TrainingJobPhase.Running));
    assertThat(running.getStatus().startTime).isNotNull();
    pods.forEach(kubelet()::succeed);
    TrainingJob done = awaitJob("dp", phase(TrainingJobPhase.Succeeded));
    assertThat(done.getStatus().completionTime).isNotNull();
    assertThat(condition(done, "Succeeded").getStatus()).isEqualTo("True");

    // Its GPUs are free again: a second gang of the same shape is placed.
    client.resource(job("dp-again", "r-dp", 4, 1)).create();
    awaitJob("dp-again", phase(TrainingJobPhase.Scheduled));
  }

  @Test
  void aGangThatCannotBeCreatedWholeIsRolledBackAndRetried() {
    pool("r-roll", RTX4090, 2, 1, 24564);
    // Someone else's pod already has rank 1's name: the second create is refused (409).
    Pod blocker =
        new io.fabric8.kubernetes.api.model.PodBuilder()
            .withNewMetadata()
            .withName("roll-worker-1")
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withNodeName("somewhere-else")
            .addNewContainer()
            .withName("app")
            .withImage("busybox")
            .endContainer()
            .endSpec()
            .build();
    client.resource(blocker).create();

    client.resource(job("roll", "r-roll", 2, 1)).create();
    TrainingJob failed =
        awaitJob(
            "roll",
            j ->
                condition(j, "Scheduled") != null
                    && "GangCreationFailed".equals(condition(j, "Scheduled").getReason()));
    assertThat(failed.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(failed.getStatus().placements).isNullOrEmpty();
    assertThat(condition(failed, "Scheduled").getMessage())
        .contains("rolled back after 1 of 2 pods")
        .contains("next in 5s");
    assertThat(generation("roll", 0)).as("no partial gang survives").isEmpty();
    assertThat(
            client.pods().inNamespace(NS).withName("roll-worker-1").get().getSpec().getNodeName())
        .isEqualTo("somewhere-else");

    // Once the name is free the job is placed again, whole.
    client.resource(blocker).delete();
    await().atMost(TIMEOUT).until(() -> generation("roll", 0).size() == 2);
    TrainingJob placed = awaitJob("roll", phase(TrainingJobPhase.Scheduled));
    assertThat(placed.getStatus().placements).hasSize(2);
  }

  @Test
  void unschedulableJobWaitsWithAReasonAndStartsWhenANodeJoins() {
    TrainingJob wanting = job("big", "r-wait", 2, 4);
    wanting.getSpec().resources.gpuModels = List.of(A100);
    client.resource(wanting).create();
    TrainingJob pending =
        awaitJob(
            "big",
            j ->
                condition(j, "Scheduled") != null
                    && "Unschedulable".equals(condition(j, "Scheduled").getReason()));
    assertThat(pending.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(condition(pending, "Scheduled").getMessage()).isNotBlank();

    pool("r-wait", A100, 2, 4, 81920);
    TrainingJob placed = awaitJob("big", phase(TrainingJobPhase.Scheduled));
    assertThat(placed.getStatus().placements).extracting(p -> p.gpuModel).containsOnly(A100);
  }

  @Test
  void exitCodePolicyFailsOnPermanentCodesAndRemovesTheGang() {
    pool("r-exit", RTX4090, 2, 1, 24564);
    TrainingJob j = job("exit", "r-exit", 2, 1);
    j.getSpec().restartPolicy = RestartPolicy.ExitCode;
    client.resource(j).create();
    List<Pod> pods = awaitGang("exit", 0, 2);
    pods.forEach(kubelet()::run);
    awaitJob("exit", phase(TrainingJobPhase.Running));
    kubelet().fail(pods.get(1), 1);
    TrainingJob failed = awaitJob("exit", phase(TrainingJobPhase.Failed));
    assertThat(condition(failed, "Failed").getReason()).isEqualTo("PermanentExitCode");
    assertThat(condition(failed, "Failed").getMessage()).contains("exit code 1");
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                generation("exit", 0).stream()
                    .noneMatch(p -> "Running".equals(p.getStatus().getPhase())));
  }

  @Test
  void onFailureRestartsFromCheckpointWithinBackoffLimit() {
    pool("r-retry", RTX4090, 2, 1, 24564);
    TrainingJob j = job("retry", "r-retry", 2, 1);
    j.getSpec().backoffLimit = 1;
    client.resource(j).create();
    List<Pod> first = awaitGang("retry", 0, 2);
    first.forEach(kubelet()::run);
    kubelet().fail(first.get(0), 137);
    TrainingJob restarted = awaitJob("retry", jj -> jj.getStatus().restarts == 1);
    assertThat(restarted.getStatus().resumeFrom).isEqualTo("s3://ckpt/retry");
    List<Pod> second = awaitGang("retry", 1, 2);
    assertThat(env(second.get(0)))
        .containsEntry("GPUPOOL_RESUME_FROM", "s3://ckpt/retry")
        .containsEntry("GPUPOOL_RESTART_COUNT", "1");
    await().atMost(TIMEOUT).until(() -> generation("retry", 0).isEmpty());

    second.forEach(kubelet()::run);
    kubelet().fail(second.get(1), 1);
    TrainingJob failed = awaitJob("retry", phase(TrainingJobPhase.Failed));
    assertThat(condition(failed, "Failed").getReason()).isEqualTo("BackoffLimitExceeded");
  }

  /**
   * What a new leader's ledger looked like in the chaos soak: rebuilt from live pods while a rank
   * had failed, so the failed rank's GPUs were free in it, another gang was placed there and the
   * restarting gang's pod was refused by the kubelet. The restart must hold its nodes again first.
   */
  @Test
  void aGangRestartingOntoItsNodesReservesThemAgainWhenTheLedgerLostThem() {
    pool("r-rebuild", RTX4090, 2, 1, 24564);
    TrainingJob j = job("rebuild", "r-rebuild", 2, 1);
    j.getSpec().backoffLimit = 3;
    client.resource(j).create();
    List<Pod> first = awaitGang("rebuild", 0, 2);
    first.forEach(kubelet()::run);
    awaitJob("rebuild", phase(TrainingJobPhase.Running));
    Map<String, Integer> placed =
        first.stream().collect(Collectors.toMap(p -> p.getSpec().getNodeName(), p -> 1));
    String holder = "TrainingJob/" + NS + "/rebuild";
    assertThat(ledger.heldBy(holder)).isEqualTo(placed);

    ledger.release(holder); // the rebuilt ledger of a new leader
    kubelet().fail(first.get(0), 137);
    awaitJob("rebuild", jj -> jj.getStatus().restarts == 1);
    List<Pod> second = awaitGang("rebuild", 1, 2);
    assertThat(second)
        .extracting(p -> p.getSpec().getNodeName())
        .containsExactlyInAnyOrderElementsOf(placed.keySet());
    assertThat(ledger.heldBy(holder)).as("the restarted gang's GPUs").isEqualTo(placed);

    client.resource(job("rebuild-rival", "r-rebuild", 1, 1)).create();
    TrainingJob rival = awaitJob("rebuild-rival", jj -> condition(jj, "Scheduled") != null);
    assertThat(rival.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(condition(rival, "Scheduled").getReason()).isEqualTo("Unschedulable");
  }

  @Test
  void lostNodeCostsOnlyItsRanksAndTheGangResumes() {
    pool("r-lost", RTX4090, 3, 1, 24564);
    client.resource(job("lost", "r-lost", 2, 1)).create();
    List<Pod> pods = awaitGang("lost", 0, 2);
    pods.forEach(kubelet()::run);
    awaitJob("lost", phase(TrainingJobPhase.Running));
    String victim = pods.get(1).getSpec().getNodeName();
    String survivor = pods.get(0).getSpec().getNodeName();

    client
        .nodes()
        .withName(victim)
        .editStatus(
            n -> {
              n.getStatus().getConditions().get(0).setStatus("False");
              n.getStatus().getConditions().get(0).setLastTransitionTime(Instant.now().toString());
              return n;
            });
    TrainingJob recovered = awaitJob("lost", jj -> jj.getStatus().restarts == 1);
    assertThat(recovered.getStatus().placements)
        .extracting(p -> p.node)
        .doesNotContain(victim)
        .contains(survivor);
    List<Pod> moved = awaitGang("lost", 1, 2);
    assertThat(moved).extracting(p -> p.getSpec().getNodeName()).doesNotContain(victim);
    assertThat(client.v1().events().inNamespace(NS).list().getItems())
        .anyMatch(
            e ->
                "lost".equals(e.getInvolvedObject().getName())
                    && "Rescheduled".equals(e.getReason()));
    var provider =
        await()
            .atMost(TIMEOUT)
            .until(
                () ->
                    client
                        .resources(io.gpupool.api.v1alpha1.GpuProvider.class)
                        .withName("prov-r-lost")
                        .get(),
                p ->
                    p.getStatus() != null
                        && p.getStatus().reliability != null
                        && Integer.valueOf(1).equals(p.getStatus().reliability.failures));
    assertThat(provider.getStatus().reliability.score).isLessThan(1.0);
  }

  @Test
  void suspendRemovesPodsAndResumeReplans() {
    pool("r-susp", RTX4090, 1, 1, 24564);
    client.resource(job("susp", "r-susp", 1, 1)).create();
    awaitGang("susp", 0, 1);
    mergePatch(NS, "susp", "{\"spec\":{\"suspend\":true}}");
    TrainingJob suspended = awaitJob("susp", phase(TrainingJobPhase.Suspended));
    assertThat(suspended.getStatus().placements).isNull();
    await().atMost(TIMEOUT).until(() -> generation("susp", 0).isEmpty());
    mergePatch(NS, "susp", "{\"spec\":{\"suspend\":false}}");
    awaitJob("susp", phase(TrainingJobPhase.Scheduled));
    awaitGang("susp", 0, 1);
  }

  @Test
  void deadlineFailsARunningJob() {
    pool("r-dead", RTX4090, 1, 1, 24564);
    TrainingJob j = job("dead", "r-dead", 1, 1);
    j.getSpec().activeDeadlineSeconds = 2L;
    client.resource(j).create();
    awaitGang("dead", 0, 1).forEach(kubelet()::run);
    TrainingJob failed = awaitJob("dead", phase(TrainingJobPhase.Failed));
    assertThat(condition(failed, "Failed").getReason()).isEqualTo("DeadlineExceeded");
  }

  @Test
  void deletingAJobRemovesItsPodsAndFreesItsGpus() {
    pool("r-del", RTX4090, 2, 1, 24564);
    client.resource(job("del", "r-del", 2, 1)).create();
    awaitGang("del", 0, 2);
    client.resources(TrainingJob.class).inNamespace(NS).withName("del").delete();
    await().atMost(TIMEOUT).until(() -> kubelet().pods(NS, "del").isEmpty());
    client.resource(job("del-next", "r-del", 2, 1)).create();
    awaitJob("del-next", phase(TrainingJobPhase.Scheduled));
  }

  @Test
  void competingJobsNeverOvercommitAGpu() {
    pool("r-race", RTX4090, 4, 2, 24564); // 8 GPUs
    for (int i = 0; i < 10; i++) {
      client.resource(job("race-" + i, "r-race", 1, 2)).create();
    }
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client.resources(TrainingJob.class).inNamespace(NS).list().getItems().stream()
                    .filter(
                        j -> j.getMetadata().getName().startsWith("race-") && j.getStatus() != null)
                    .collect(
                        Collectors.groupingBy(
                            j -> String.valueOf(j.getStatus().phase), Collectors.counting())),
            byPhase ->
                Long.valueOf(4).equals(byPhase.get("Scheduled"))
                    && Long.valueOf(6).equals(byPhase.get("Pending")));
    List<Pod> pods =
        client.pods().inNamespace(NS).list().getItems().stream()
            .filter(p -> p.getMetadata().getName().startsWith("race-"))
            .toList();
    Map<String, Integer> gpusByNode = new HashMap<>();
    for (Pod p : pods) {
      gpusByNode.merge(
          p.getSpec().getNodeName(),
          Integer.parseInt(
              p.getSpec()
                  .getContainers()
                  .get(0)
                  .getResources()
                  .getLimits()
                  .get("nvidia.com/gpu")
                  .getAmount()),
          Integer::sum);
    }
    assertThat(pods).hasSize(4);
    assertThat(gpusByNode.values()).allMatch(n -> n <= 2);
    long pending =
        client.resources(TrainingJob.class).inNamespace(NS).list().getItems().stream()
            .filter(
                j ->
                    j.getMetadata().getName().startsWith("race-")
                        && j.getStatus().phase == TrainingJobPhase.Pending)
            .count();
    assertThat(pending).isEqualTo(6);
  }

  @Test
  void nodeThatDisappearsMidRunIsReplaced() {
    pool("r-gone", A100, 2, 4, 81920);
    TrainingJob j = job("gone", "r-gone", 1, 4);
    client.resource(j).create();
    List<Pod> pods = awaitGang("gone", 0, 1);
    pods.forEach(kubelet()::run);
    awaitJob("gone", phase(TrainingJobPhase.Running));
    Node victim = client.nodes().withName(pods.get(0).getSpec().getNodeName()).get();
    client.nodes().withName(victim.getMetadata().getName()).delete();
    TrainingJob recovered =
        awaitJob("gone", jj -> jj.getStatus().restarts == 1 && jj.getStatus().placements != null);
    assertThat(recovered.getStatus().placements)
        .extracting(p -> p.node)
        .doesNotContain(victim.getMetadata().getName());
  }
}
