package io.gpupool.operator.it;

import static io.gpupool.operator.it.TestJobs.training;
import static io.gpupool.operator.it.TestQueues.admitted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Autoscaling;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.QueuedReplica;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.operator.inference.TestLoadSignal;
import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.ClusterSnapshot;
import io.gpupool.operator.queue.InferenceAdmission;
import io.gpupool.operator.queue.QueueMetrics;
import io.gpupool.operator.queue.Verdict;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * InferenceJobs through GpuQueues against the mock API server: the minimum replicas are admitted
 * before anything is placed, in priority then arrival order with the queue's TrainingJobs; a
 * scale-up the quota does not cover leaves the job serving at its size (Admitted=True,
 * ScaleUpQueued) and the replicas come when quota frees; a scale-down gives quota back; a
 * higher-priority job takes a replica, not the minimum. Each test owns a namespace, a queue and a
 * region. Same profile as {@link InferenceJobIT} (short poll and drain periods): one boot for both.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(InferenceJobIT.Fast.class)
class InferenceQueueIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";

  @Inject KubernetesClient client;
  @Inject ClusterSnapshot snapshot;

  /** {@code nodes} one-GPU nodes, each its own provider (replicas spread over providers). */
  private void pool(String region, int nodes) {
    for (int i = 0; i < nodes; i++) {
      TestNodes.join(
          client, region + "-a100-" + i, "prov-" + region + "-" + i, A100, "1.50", 81920, region);
    }
  }

  private void queue(String name, String namespace, int gpus) {
    TestQueues.queue(client, name, namespace, "a100", A100, gpus, TIMEOUT);
  }

  /** An InferenceJob scaling on in-flight requests (8 per replica), quick to scale down. */
  private static InferenceJob serving(String ns, String name, String region, int min, int max) {
    InferenceJob job = TestJobs.serving(ns, name, region, min, max);
    job.getSpec().autoscaling = new Autoscaling();
    job.getSpec().autoscaling.targetInFlightRequests = 8;
    job.getSpec().autoscaling.scaleDownStabilizationSeconds = 1;
    return job;
  }

  private List<Pod> live(String ns, String job) {
    return new FakeKubelet(client).live(ns, job);
  }

  /** Waits for {@code done}, running every new pod of the job as a kubelet would meanwhile. */
  private InferenceJob awaitServing(String ns, String name, Predicate<InferenceJob> done) {
    return new ClusterWaits(client, TIMEOUT).serving(ns, name, done);
  }

  private TrainingJob awaitTraining(String ns, String name, Predicate<TrainingJob> done) {
    return new ClusterWaits(client, TIMEOUT).job(TrainingJob.class, ns, name, done);
  }

  private static Predicate<InferenceJob> reason(String reason) {
    return j -> {
      Condition c = admitted(j.getStatus().conditions);
      return c != null && reason.equals(c.getReason());
    };
  }

  private static Predicate<InferenceJob> ready(int n) {
    return j -> j.getStatus().readyReplicas != null && j.getStatus().readyReplicas == n;
  }

  private List<String> eventReasons(String ns, String job) {
    return client.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> job.equals(e.getInvolvedObject().getName()))
        .map(Event::getReason)
        .toList();
  }

  @Test
  void theMinimumWaitsPendingInItsQueueAndIsAdmittedBeforeItIsPlaced() {
    String ns = "iq-wait";
    pool("r-iqwait", 3);
    queue("iq-wait", ns, 2);
    client.resource(training(ns, "hold", "r-iqwait", 2)).create();
    awaitTraining(ns, "hold", j -> j.getStatus().phase == TrainingJobPhase.Scheduled);
    InferenceJob job = serving(ns, "chat", "r-iqwait", 1, 2);
    job.getSpec().autoscaling = null;
    client.resource(job).create();

    InferenceJob queued = awaitServing(ns, "chat", reason("Queued"));
    assertThat(queued.getStatus().phase).isEqualTo(InferenceJobPhase.Pending);
    assertThat(queued.getStatus().queue.name).isEqualTo("iq-wait");
    assertThat(queued.getStatus().queue.position).isEqualTo(1);
    assertThat(queued.getStatus().admittedReplicas).isZero();
    assertThat(live(ns, "chat")).as("nothing placed before admission").isEmpty();

    client.resources(TrainingJob.class).inNamespace(ns).withName("hold").delete();
    InferenceJob admittedJob =
        awaitServing(
            ns,
            "chat",
            reason("Admitted")
                .and(ready(1))
                .and(j -> j.getStatus().phase == InferenceJobPhase.Serving));
    assertThat(admittedJob.getStatus().queue.position).isNull();
    assertThat(admittedJob.getStatus().queue.flavor).isEqualTo("a100");
    assertThat(admittedJob.getStatus().admittedReplicas).isEqualTo(1);
  }

  @Test
  void aScaleUpBeyondQuotaKeepsServingAndItsReplicasComeAsQuotaFreesAndGoBackOnScaleDown() {
    String ns = "iq-scale";
    String region = "r-iqscale";
    pool(region, 5);
    queue("iq-scale", ns, 3);
    client.resource(training(ns, "first", region, 1)).create();
    awaitTraining(ns, "first", j -> j.getStatus().phase == TrainingJobPhase.Scheduled);
    client.resource(serving(ns, "chat", region, 1, 4)).create();
    awaitServing(ns, "chat", ready(1).and(reason("Admitted")));

    TestLoadSignal.set("chat", 40.0);
    try {
      // Wants 4, the queue has room for 2 beside the TrainingJob: it serves 2, not Pending.
      InferenceJob capped =
          awaitServing(
              ns,
              "chat",
              ready(2).and(reason("ScaleUpQueued")).and(j -> j.getStatus().desiredReplicas == 4));
      assertThat(capped.getStatus().phase).isEqualTo(InferenceJobPhase.Serving);
      assertThat(capped.getStatus().admittedReplicas).isEqualTo(2);
      assertThat(capped.getStatus().queue.position).isEqualTo(1);
      assertThat(admitted(capped.getStatus().conditions).getMessage())
          .contains("2 of 4 replica(s) admitted", "2 more wait");
      assertThat(live(ns, "chat")).hasSize(2);
      await()
          .atMost(TIMEOUT)
          .untilAsserted(() -> assertThat(eventReasons(ns, "chat")).contains("ScaleUpQueued"));

      // The TrainingJob ends: its GPU goes to the first replica waiting.
      client.resources(TrainingJob.class).inNamespace(ns).withName("first").delete();
      InferenceJob three = awaitServing(ns, "chat", ready(3));
      assertThat(three.getStatus().admittedReplicas).isEqualTo(3);

      // Load gone: back to one replica, and the quota with it.
      TestLoadSignal.set("chat", 0.0);
      awaitServing(
          ns,
          "chat",
          ready(1).and(reason("Admitted")).and(j -> j.getStatus().admittedReplicas == 1));
      client.resource(training(ns, "after", region, 2)).create();
      awaitTraining(ns, "after", j -> j.getStatus().phase == TrainingJobPhase.Scheduled);
    } finally {
      TestLoadSignal.set("chat", null);
    }
  }

  /**
   * Job {@code low} serving 3 replicas on a 3-GPU queue named {@code ns} (its load signal set: the
   * caller clears it), then TrainingJob {@code urgent}, at a higher priority, placed on one of
   * them.
   */
  private void urgentTakesAReplicaOfLow(String ns, String region) {
    pool(region, 4);
    queue(ns, ns, 3);
    client.resource(serving(ns, "low", region, 1, 3)).create();
    TestLoadSignal.set("low", 40.0);
    awaitServing(ns, "low", ready(3).and(reason("Admitted")));
    TrainingJob urgent = training(ns, "urgent", region, 1);
    urgent.getSpec().priority = 100;
    client.resource(urgent).create();
    awaitTraining(ns, "urgent", j -> j.getStatus().phase == TrainingJobPhase.Scheduled);
  }

  @Test
  void aHigherPriorityJobTakesAReplicaAndLeavesTheMinimumServing() {
    String ns = "iq-preempt";
    try {
      urgentTakesAReplicaOfLow(ns, "r-iqpreempt");
      InferenceJob low =
          awaitServing(ns, "low", ready(2).and(j -> j.getStatus().admittedReplicas == 2));
      assertThat(low.getStatus().phase).isEqualTo(InferenceJobPhase.Serving);
      assertThat(low.getStatus().queue.preemptions).isEqualTo(1);
      assertThat(eventReasons(ns, "low")).contains("Preempted");
      // The replica it lost waits in the queue again, behind the job that took it.
      assertThat(reason("ScaleUpQueued").test(low)).isTrue();
    } finally {
      TestLoadSignal.set("low", null);
    }
  }

  /**
   * A replica preempted by a higher-priority job waits in the queue again, in the place it had; its
   * job's status lists it (waiting, since when, evicted once, for whom). A fresh controller rebuilt
   * from what the running operator stored carries that on: the preemptor keeps its quota, nothing
   * is evicted again, and the replica still waits ahead of a job that arrived after it.
   */
  @Test
  void aPreemptedReplicaWaitingInItsQueueIsRestoredInItsPlaceByARestartedOperator() {
    String ns = "iq-restart";
    String region = "r-iqrestart";
    try {
      urgentTakesAReplicaOfLow(ns, region);
      TrainingJob urgent =
          client.resources(TrainingJob.class).inNamespace(ns).withName("urgent").get();
      InferenceJob low =
          awaitServing(
              ns,
              "low",
              reason("ScaleUpQueued")
                  .and(j -> j.getStatus().queuedReplicas != null)
                  .and(j -> j.getStatus().queuedReplicas.stream().anyMatch(r -> !r.admitted)));
      QueuedReplica evicted =
          low.getStatus().queuedReplicas.stream().filter(r -> !r.admitted).findFirst().get();
      assertThat(evicted.preemptions).isEqualTo(1);
      assertThat(evicted.evictedFor).isEqualTo(ns + "/urgent");
      assertThat(evicted.preemptedAt).isNotNull();
      assertThat(Instant.parse(evicted.queuedSince))
          .as("the place it had, before the preemptor arrived")
          .isBefore(Instant.parse(urgent.getMetadata().getCreationTimestamp()).plusSeconds(1));
      // Creation times have whole seconds: "late" is created a second after the replica asked.
      Instant asked = Instant.parse(evicted.queuedSince);
      await().atMost(TIMEOUT).until(() -> Instant.now().isAfter(asked.plusSeconds(1)));
      client.resource(training(ns, "late", region, 1)).create();
      awaitTraining(
          ns, "late", j -> j.getStatus().queue != null && j.getStatus().queue.position != null);

      AdmissionController restarted =
          new AdmissionController(
              name -> OptionalInt.empty(),
              namespace -> Map.of(),
              new QueueMetrics(new SimpleMeterRegistry()),
              snapshot);
      InferenceAdmission inference = new InferenceAdmission(restarted);
      TrainingJob storedLate =
          client.resources(TrainingJob.class).inNamespace(ns).withName("late").get();
      assertThat(((Verdict.Queued) restarted.decide(storedLate)).position())
          .as("behind low's preempted replica, which waited before it")
          .isEqualTo(2);
      TrainingJob storedUrgent =
          client.resources(TrainingJob.class).inNamespace(ns).withName("urgent").get();
      assertThat(restarted.holding(storedUrgent, "a100")).isInstanceOf(Verdict.Admitted.class);
      InferenceJob storedLow =
          client.resources(InferenceJob.class).inNamespace(ns).withName("low").get();
      var r = inference.replicas(storedLow, 3, true, 2, "a100");
      assertThat(r.evicted()).as("nothing evicted again").isEmpty();
      assertThat(r.allowed()).isEqualTo(2);
      assertThat(r.queued()).isEqualTo(1);
      assertThat(r.position()).isEqualTo(1);
      assertThat(restarted.usage("iq-restart").orElseThrow().inUse()).containsEntry("a100", 3);
    } finally {
      TestLoadSignal.set("low", null);
    }
  }

  /**
   * A replica the planner would shard over more GPUs than its queue counts for it
   * (spec.gpusPerReplica) is not placed: the queue would run over its quota.
   */
  @Test
  void aReplicaShardedWiderThanItsQueueCountsIsNotPlaced() {
    String ns = "iq-wide";
    String region = "r-iqwide";
    pool(region, 3);
    queue("iq-wide", ns, 4);
    InferenceJob job = serving(ns, "wide", region, 1, 1);
    job.getSpec().autoscaling = null;
    job.getSpec().model.parameters = "70B";
    job.getSpec().model.layers = 80;
    client.resource(job).create();

    InferenceJob refused =
        awaitServing(
            ns,
            "wide",
            j ->
                j.getStatus().conditions.stream()
                    .anyMatch(
                        c ->
                            "Scheduled".equals(c.getType())
                                && "ReplicaOverQuota".equals(c.getReason())));
    assertThat(reason("Admitted").test(refused)).as("admitted on quota first").isTrue();
    assertThat(
            refused.getStatus().conditions.stream()
                .filter(c -> "ReplicaOverQuota".equals(c.getReason()))
                .findFirst()
                .orElseThrow()
                .getMessage())
        .contains("spec.gpusPerReplica=1");
    assertThat(live(ns, "wide")).as("nothing placed beyond the quota counted").isEmpty();
    await()
        .atMost(TIMEOUT)
        .untilAsserted(() -> assertThat(eventReasons(ns, "wide")).contains("ReplicaOverQuota"));
  }
}
