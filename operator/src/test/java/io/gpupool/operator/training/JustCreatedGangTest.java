package io.gpupool.operator.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.operator.workload.ClusterPods;
import io.gpupool.operator.workload.FakeWorkloads;
import io.gpupool.operator.workload.GroupBinder;
import io.gpupool.operator.workload.JobBinding;
import io.gpupool.operator.workload.OwnedPodEvents;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A gang the binder has just created, before the pod watch delivers it: the job's pod reads show it
 * (the binder hands each created pod to the controller's pod cache), so following the gang sees it
 * starting, not a rank whose pod was deleted — which would restart the gang. And how a gang is
 * removed: metered first.
 */
class JustCreatedGangTest {
  private static final Instant NOW = Instant.parse("2026-12-06T07:00:00Z");

  // Never started: the watch has delivered nothing, as when it lags behind our creates.
  private final KubernetesClient client =
      new KubernetesClientBuilder()
          .withConfig(new ConfigBuilder().withMasterUrl("http://127.0.0.1:1").build())
          .build();
  private final OwnedPodEvents<TrainingJob> pods =
      new OwnedPodEvents<>(
          new ClusterPods(new ClusterWatches(client)), TrainingJob.class, "trainingjob-pods");

  @AfterEach
  void close() {
    client.close();
  }

  @Test
  void aJustCreatedGangMissingFromTheWatchIsStartingNotDeleted() throws Exception {
    TrainingJob job = job();
    List<RankAssignment> ranks = List.of(rank(0, "n1"), rank(1, "n2"));
    GroupBinder binder = new GroupBinder(new FakeWorkloads(), new SimpleMeterRegistry());
    CountDownLatch done = new CountDownLatch(1);
    binder.bind(
        new GroupBinder.Group(
            job.getMetadata().getUid(),
            "gang",
            "ml",
            List.of(
                new ServiceBuilder().withNewMetadata().withName("pretrain").endMetadata().build()),
            TrainingGang.pods(job, ranks, "DataParallel", 0, 0, null),
            UnaryOperator.identity(),
            TrainingGang::sameRank),
        pods::written,
        why -> {},
        done::countDown);
    assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();

    Gangs gangs =
        new Gangs(
            new JobBinding<>(binder, (j, g) -> g, p -> {}, j -> {}),
            new FakeWorkloads(),
            pods::getSecondaryResources,
            (j, going) -> {});
    var gang = gangs.current(job);
    assertThat(gang).containsOnlyKeys(0, 1);
    GangObservation seen =
        GangObserver.observe(
            ranks,
            gang,
            Map.of(
                "n1", new GangObserver.NodeState(true, null),
                "n2", new GangObserver.NodeState(true, null)),
            Duration.ofMinutes(5),
            NOW);
    assertThat(seen).isInstanceOf(GangObservation.Starting.class);
  }

  @Test
  void withoutTheCreatedPodsTheSameGangWouldLookDeleted() {
    TrainingJob job = job();
    List<RankAssignment> ranks = List.of(rank(0, "n1"), rank(1, "n2"));
    GangObservation seen =
        GangObserver.observe(
            ranks,
            Map.of(),
            Map.of(
                "n1", new GangObserver.NodeState(true, null),
                "n2", new GangObserver.NodeState(true, null)),
            Duration.ofMinutes(5),
            NOW);
    assertThat(seen).isInstanceOf(GangObservation.RankFailed.class);
    assertThat(pods.getSecondaryResources(job)).isEmpty();
  }

  @Test
  void aPodMissingFromTheViewIsGoneOnlyWhenTheApiServerHasNoneOfThatGeneration() {
    TrainingJob job = job();
    job.getStatus().restarts = 1;
    List<RankAssignment> ranks = List.of(rank(0, "n1"), rank(1, "n2"));
    FakeWorkloads server = new FakeWorkloads();
    GroupBinder binder = new GroupBinder(server, new SimpleMeterRegistry());
    Gangs gangs =
        new Gangs(
            new JobBinding<>(binder, (j, g) -> g, p -> {}, j -> {}),
            server,
            j -> List.of(),
            (j, going) -> {});
    for (var pod : TrainingGang.pods(job, ranks, "DataParallel", 1, 1, null)) {
      server.pods.put(pod.getMetadata().getName(), pod);
    }
    // the view (empty here) lacks both ranks; the API server has generation 1's pods
    assertThat(gangs.onServer(job, 1)).isTrue();

    String rank1 = TrainingGang.podName(job, 1, 1);
    server.pods.get(rank1).getMetadata().setDeletionTimestamp("2026-12-06T07:00:00Z");
    assertThat(gangs.onServer(job, 1)).as("being deleted").isFalse();
    server.pods.remove(rank1);
    assertThat(gangs.onServer(job, 1)).as("gone").isFalse();
    job.getStatus().restarts = 2;
    assertThat(gangs.onServer(job, 0)).as("a pod of an older generation").isFalse();
  }

  @Test
  void removingAGangHandsItsUnfinishedPodsToTheMeterBeforeAnyIsDeleted() {
    TrainingJob job = job();
    FakeWorkloads server = new FakeWorkloads();
    List<Pod> gang = onServer(server, job);
    gang.get(1).setStatus(new PodStatusBuilder().withPhase("Succeeded").build());
    List<String> handed = new ArrayList<>();
    Gangs gangs =
        removing(
            server,
            gang,
            (j, going) -> {
              assertThat(server.deleted).as("nothing deleted before the meter has it").isEmpty();
              going.forEach(p -> handed.add(p.getMetadata().getName()));
            });

    gangs.remove(job);

    String rank0 = TrainingGang.podName(job, 0, 0);
    assertThat(handed).as("the completed rank is not deleted").containsExactly(rank0);
    assertThat(server.deleted).containsExactly(rank0);
  }

  @Test
  void aGangWhoseUsageCannotBeStoredIsNotDeleted() {
    TrainingJob job = job();
    FakeWorkloads server = new FakeWorkloads();
    List<Pod> gang = onServer(server, job);
    Gangs gangs =
        removing(
            server,
            gang,
            (j, going) -> {
              throw new IllegalStateException("usage ConfigMap write refused");
            });

    assertThatThrownBy(() -> gangs.remove(job)).hasMessageContaining("refused");
    assertThat(server.deleted).as("the step fails and is retried, pods kept").isEmpty();
    assertThat(server.pods).hasSize(2);
  }

  /** The job's two-rank gang, generation 0, stored on {@code server}. */
  private static List<Pod> onServer(FakeWorkloads server, TrainingJob job) {
    List<Pod> gang =
        TrainingGang.pods(job, List.of(rank(0, "n1"), rank(1, "n2")), "DataParallel", 0, 0, null);
    gang.forEach(p -> server.pods.put(p.getMetadata().getName(), p));
    return gang;
  }

  private static Gangs removing(
      FakeWorkloads server, List<Pod> gang, BiConsumer<TrainingJob, List<Pod>> beforeDeleting) {
    GroupBinder binder = new GroupBinder(server, new SimpleMeterRegistry());
    return new Gangs(
        new JobBinding<>(binder, (j, g) -> g, p -> {}, j -> {}), server, j -> gang, beforeDeleting);
  }

  private static RankAssignment rank(int rank, String node) {
    return new RankAssignment(
        rank, node, "alice", "eu", "NVIDIA-GeForce-RTX-4090", 1, "nvidia.com/gpu", -1, -1, -1, 0.5);
  }

  private static TrainingJob job() {
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("pretrain").withNamespace("ml").withUid("uid-1").build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "img:1";
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = 2;
    spec.parallelism.gpusPerWorker = 1;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    spec.model.globalBatchSize = 64;
    job.setSpec(spec);
    job.setStatus(new TrainingJobStatus());
    job.getStatus().restarts = 0;
    return job;
  }
}
