package io.gpupool.operator.scope;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.QueuePosition;
import io.gpupool.api.v1alpha1.RankPlacement;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.ClusterSnapshot;
import io.gpupool.operator.queue.QueueMetrics;
import io.gpupool.operator.queue.Verdict;
import io.gpupool.operator.watch.ClusterWatches;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An install scoped by a namespace label selector restarts (mock API server): the admission book it
 * rebuilds from the stored jobs counts only the jobs of the namespaces the selector matches. A job
 * of another namespace that names the same GpuQueue — another install's, or one of a namespace
 * unlabelled since — neither holds this install's quota nor takes a place ahead of its jobs.
 */
@EnableKubernetesMockClient(crud = true)
class SelectorScopedAdmissionRebuildIT {
  static final String LABEL = "gpupool.io/pool";

  KubernetesClient client;
  private SelectedNamespaces selected;
  private ClusterWatches watches;

  @AfterEach
  void stop() {
    if (watches != null) {
      watches.close();
    }
  }

  @Test
  void theRebuildCountsOnlyTheJobsOfSelectedNamespaces() throws Exception {
    namespace("team-a", "a");
    namespace("team-x", "x");
    client.resource(queue()).create();
    // Not selected: a job running on all 4 of the queue's GPUs, and one that would go first.
    client.resource(running("team-x", "foreign-running", "2026-12-06T01:00:00Z")).create();
    client.resource(urgent(waiting("team-x", "foreign-waiting", "2026-12-06T01:05:00Z"))).create();
    TrainingJob mine = waiting("team-a", "mine", "2026-12-06T01:10:00Z");
    client.resource(mine).create();

    AdmissionController restarted = restartedWith(LABEL + "=a");
    assertThat(restarted.decide(mine)).isInstanceOf(Verdict.Admitted.class);
    assertThat(restarted.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 4);
  }

  @Test
  void withoutTheSelectorTheSameJobsWouldHoldTheQuotaAndGoFirst() throws Exception {
    // The contrast: an install that manages every namespace counts the other namespace's jobs.
    namespace("team-a", "a");
    namespace("team-x", "x");
    client.resource(queue()).create();
    client.resource(running("team-x", "foreign-running", "2026-12-06T01:00:00Z")).create();
    client.resource(urgent(waiting("team-x", "foreign-waiting", "2026-12-06T01:05:00Z"))).create();
    TrainingJob mine = waiting("team-a", "mine", "2026-12-06T01:10:00Z");
    client.resource(mine).create();

    AdmissionController restarted = restartedWith(null);
    var verdict = restarted.decide(mine);
    assertThat(verdict).isInstanceOf(Verdict.Queued.class);
    assertThat(((Verdict.Queued) verdict).position()).isEqualTo(2);
  }

  /** A fresh controller (as after a restart) reading the cluster through this install's scope. */
  private AdmissionController restartedWith(String selector) throws Exception {
    GpupoolConfig config = config(selector);
    watches = new ClusterWatches(client);
    selected = new SelectedNamespaces(watches, null, config);
    selected.watch(null); // learns the matching namespaces, as at start-up
    return new AdmissionController(
        name -> OptionalInt.empty(),
        ns -> Map.of(),
        new QueueMetrics(new SimpleMeterRegistry()),
        new ClusterSnapshot(client, config, selected));
  }

  /** The configuration of an install scoped by {@code selector} (null: every namespace). */
  private static GpupoolConfig config(String selector) {
    GpupoolConfig.Scope scope =
        (GpupoolConfig.Scope)
            Proxy.newProxyInstance(
                GpupoolConfig.class.getClassLoader(),
                new Class<?>[] {GpupoolConfig.Scope.class},
                (p, m, a) ->
                    switch (m.getName()) {
                      case "namespaceSelector" -> Optional.ofNullable(selector);
                      case "namespaces", "install" -> Optional.empty();
                      case "claim" -> false;
                      default -> throw new UnsupportedOperationException(m.getName());
                    });
    return (GpupoolConfig)
        Proxy.newProxyInstance(
            GpupoolConfig.class.getClassLoader(),
            new Class<?>[] {GpupoolConfig.class},
            (p, m, a) -> {
              if (m.getName().equals("scope")) {
                return scope;
              }
              throw new UnsupportedOperationException(m.getName());
            });
  }

  private void namespace(String name, String pool) {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(Map.of(LABEL, pool))
                .endMetadata()
                .build())
        .create();
  }

  /** One queue of 4 A100 that both namespaces are assigned to. */
  private static GpuQueue queue() {
    return Serialization.unmarshal(
        """
        apiVersion: gpupool.io/v1alpha1
        kind: GpuQueue
        metadata: {name: team-a}
        spec:
          namespaces: [team-a, team-x]
          quotas:
          - name: a100
            products: [NVIDIA-A100-SXM4-80GB]
            nominal: 4
        """,
        GpuQueue.class);
  }

  private static TrainingJob waiting(String ns, String name, String created) {
    return Serialization.unmarshal(
        """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata: {name: %s, namespace: %s, creationTimestamp: "%s"}
        spec:
          image: ghcr.io/example/train:1
          parallelism: {strategy: DataParallel, workers: 1, gpusPerWorker: 4}
          model: {parameters: 7B, layers: 32}
        status:
          phase: Pending
        """
            .formatted(name, ns, created),
        TrainingJob.class);
  }

  /** A higher priority: ahead of every other job of the queue, whatever the creation times. */
  private static TrainingJob urgent(TrainingJob job) {
    job.getSpec().priority = 10;
    return job;
  }

  private static TrainingJob running(String ns, String name, String created) {
    TrainingJob job = waiting(ns, name, created);
    job.getStatus().phase = TrainingJobPhase.Running;
    RankPlacement rank = new RankPlacement();
    rank.rank = 0;
    rank.node = "n1";
    rank.gpus = 4;
    job.getStatus().placements = List.of(rank);
    job.getStatus().queue = new QueuePosition();
    job.getStatus().queue.name = "team-a";
    job.getStatus().queue.flavor = "a100";
    return job;
  }
}
