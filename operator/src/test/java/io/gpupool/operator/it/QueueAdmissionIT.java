package io.gpupool.operator.it;

import static io.gpupool.operator.it.TestJobs.training;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.JobPreemption;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.ClusterSnapshot;
import io.gpupool.operator.queue.QueueMetrics;
import io.gpupool.operator.queue.Verdict;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
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
 * Admission through GpuQueues against the mock API server: jobs beyond quota wait with their place
 * in status, are admitted in order as quota frees, the queue's status counts them, and a
 * higher-priority job evicts a running one after its notice and grace period; the victim goes back
 * to its queue and resumes from its checkpoint. Each test owns a namespace, a queue and a region.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class QueueAdmissionIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";

  @Inject KubernetesClient client;
  @Inject ClusterSnapshot snapshot;

  private void pool(String region, int nodes) {
    for (int i = 0; i < nodes; i++) {
      TestNodes.join(client, region + "-a100-" + i, "prov-" + region, A100, "1.50", 81920, region);
    }
  }

  private void queue(String name, String namespace, int gpus) {
    TestQueues.queue(client, name, namespace, "a100", A100, gpus, TIMEOUT);
  }

  private TrainingJob awaitJob(String ns, String name, Predicate<TrainingJob> done) {
    return new ClusterWaits(client, TIMEOUT).job(TrainingJob.class, ns, name, done);
  }

  private static Condition admitted(TrainingJob job) {
    return TestQueues.admitted(job.getStatus().conditions);
  }

  private static Predicate<TrainingJob> reason(String reason) {
    return j -> admitted(j) != null && reason.equals(admitted(j).getReason());
  }

  private static Predicate<TrainingJob> phase(TrainingJobPhase phase) {
    return j -> j.getStatus().phase == phase;
  }

  private List<Pod> pods(String ns, String job) {
    return new FakeKubelet(client).live(ns, job);
  }

  private List<Pod> awaitPods(String ns, String job, int n) {
    return new ClusterWaits(client, TIMEOUT).pods(ns, job, n);
  }

  @Test
  void jobsBeyondQuotaWaitInOrderAndAreAdmittedAsQuotaFrees() {
    String ns = "queue-order";
    pool("r-qorder", 4);
    queue("q-order", ns, 2);
    client.resource(training(ns, "first", "r-qorder", 2)).create();
    awaitJob(ns, "first", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    client.resource(training(ns, "second", "r-qorder", 1)).create();
    TrainingJob second = awaitJob(ns, "second", reason("Queued"));
    client.resource(training(ns, "third", "r-qorder", 1)).create();
    TrainingJob third =
        awaitJob(
            ns,
            "third",
            j ->
                reason("Queued").test(j)
                    && j.getStatus().queue.position != null
                    && j.getStatus().queue.position == 2);
    assertThat(second.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(second.getStatus().queue.name).isEqualTo("q-order");
    assertThat(third.getStatus().placements).isNullOrEmpty();
    assertThat(
            awaitJob(ns, "second", j -> j.getStatus().queue.position == 1)
                .getStatus()
                .queue
                .position)
        .isEqualTo(1);

    GpuQueue q =
        await()
            .atMost(TIMEOUT)
            .until(
                () -> client.resources(GpuQueue.class).withName("q-order").get(),
                g ->
                    g.getStatus() != null
                        && Integer.valueOf(2).equals(g.getStatus().pendingWorkloads));
    assertThat(q.getStatus().admittedWorkloads).isEqualTo(1);
    assertThat(q.getStatus().gpusInUse).isEqualTo(2);
    assertThat(q.getStatus().flavors)
        .singleElement()
        .satisfies(f -> assertThat(f.nominal).isEqualTo(2));

    FakeKubelet kubelet = new FakeKubelet(client);
    List<Pod> gang = awaitPods(ns, "first", 2);
    gang.forEach(kubelet::run);
    gang.forEach(kubelet::succeed);
    awaitJob(ns, "second", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    TrainingJob admittedThird =
        awaitJob(ns, "third", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    assertThat(admittedThird.getStatus().queue.position).isNull();
    assertThat(admittedThird.getStatus().queue.flavor).isEqualTo("a100");
  }

  @Test
  void anUrgentJobEvictsARunningOneWhichResumesFromItsCheckpointLater() {
    String ns = "queue-preempt";
    FakeKubelet kubelet = new FakeKubelet(client);
    List<Pod> lowPods = urgentAfterRunningLow(ns, "r-qpre", 1, kubelet);

    // Notice first: the victim's pods carry the deadline the notice file shows.
    await()
        .atMost(TIMEOUT)
        .until(
            () -> pods(ns, "low"),
            p ->
                !p.isEmpty()
                    && p.stream()
                        .allMatch(
                            pod ->
                                pod.getMetadata().getAnnotations() != null
                                    && pod.getMetadata()
                                        .getAnnotations()
                                        .containsKey("gpupool.io/preempt-notice")));
    assertThat(lowPods.get(0).getSpec().getContainers().get(0).getEnv())
        .extracting(EnvVar::getName)
        .contains("GPUPOOL_PREEMPT_NOTICE");

    // After the grace period its pods go, it waits in its queue, and the urgent job runs.
    TrainingJob victim =
        awaitJob(
            ns,
            "low",
            j ->
                j.getStatus().phase == TrainingJobPhase.Pending
                    && reason("Preempted").test(j)
                    && j.getStatus().queue.preemptions != null);
    assertThat(victim.getStatus().queue.preemptions).isEqualTo(1);
    assertThat(admitted(victim).getMessage()).startsWith("preempted");
    List<Pod> urgentPods = awaitPods(ns, "urgent", 2);
    urgentPods.forEach(kubelet::run);
    urgentPods.forEach(kubelet::succeed);

    // Then it is admitted again and told to resume from its checkpoint.
    awaitJob(ns, "low", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    List<Pod> resumed = awaitPods(ns, "low", 2);
    assertThat(resumed.get(0).getSpec().getContainers().get(0).getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("GPUPOOL_RESUME_FROM");
              assertThat(e.getValue()).isEqualTo("s3://ckpt/low");
            });
  }

  /**
   * The operator restarts while a victim is under notice: a fresh admission controller, rebuilt
   * from what the running operator stored (status.queue.evictedFor and evictionDeadline), carries
   * the same eviction on — the victim keeps its deadline, the preemptor waits for it and takes the
   * quota once the victim is gone — instead of forgetting it (the victim would run on, the
   * preemptor evict again or wait for nothing).
   */
  @Test
  void anEvictionUnderNoticeIsCarriedOnByARestartedOperator() {
    String ns = "queue-restart";
    // the notice outlasts the test
    urgentAfterRunningLow(ns, "r-qrst", 600, new FakeKubelet(client));

    TrainingJob noticed =
        awaitJob(
            ns,
            "low",
            j ->
                j.getStatus().queue != null
                    && j.getStatus().queue.evictedFor != null
                    && j.getStatus().queue.evictionDeadline != null);
    Instant deadline = Instant.parse(noticed.getStatus().queue.evictionDeadline);
    assertThat(deadline).isAfter(Instant.now().plusSeconds(500));

    AdmissionController restarted =
        new AdmissionController(
            name -> OptionalInt.empty(),
            namespace -> Map.of(),
            new QueueMetrics(new SimpleMeterRegistry()),
            snapshot);
    TrainingJob storedUrgent =
        client.resources(TrainingJob.class).inNamespace(ns).withName("urgent").get();
    assertThat(restarted.decide(storedUrgent))
        .as("the preemptor waits for the victim it already chose")
        .isInstanceOf(Verdict.Queued.class);
    Verdict victim = restarted.decide(noticed);
    assertThat(victim).isInstanceOf(Verdict.Evicted.class);
    assertThat(((Verdict.Evicted) victim).deadline())
        .as("the notice's deadline as stored, not a new grace period")
        .isEqualTo(deadline);
    assertThat(((Verdict.Evicted) victim).preemptor())
        .isEqualTo(noticed.getStatus().queue.evictedFor);

    restarted.evictionDone(noticed);
    assertThat(restarted.decide(storedUrgent)).isInstanceOf(Verdict.Admitted.class);

    // the running operator's notice would last 10 minutes: end both jobs now
    client.resources(TrainingJob.class).inNamespace(ns).delete();
  }

  /**
   * A 2-GPU queue in {@code ns} over a pool of 2 in {@code region}, fully used by job {@code low}
   * (running, preemptible with {@code graceSeconds} of notice), then job {@code urgent} at a higher
   * priority asking for the same 2 GPUs. Returns low's pods.
   */
  private List<Pod> urgentAfterRunningLow(
      String ns, String region, int graceSeconds, FakeKubelet kubelet) {
    pool(region, 2);
    queue("q-" + ns, ns, 2);
    TrainingJob low = training(ns, "low", region, 2);
    low.getSpec().preemption = new JobPreemption();
    low.getSpec().preemption.gracePeriodSeconds = graceSeconds;
    client.resource(low).create();
    List<Pod> lowPods = awaitPods(ns, "low", 2);
    lowPods.forEach(kubelet::run);
    awaitJob(ns, "low", phase(TrainingJobPhase.Running));
    TrainingJob urgent = training(ns, "urgent", region, 2);
    urgent.getSpec().priority = 100;
    client.resource(urgent).create();
    return lowPods;
  }

  private void setQuota(String queue, int gpus) {
    client
        .resources(GpuQueue.class)
        .withName(queue)
        .edit(
            q -> {
              q.getSpec().quotas.get(0).nominal = gpus;
              return q;
            });
  }

  private static Predicate<TrainingJob> message(String part) {
    return j -> admitted(j) != null && admitted(j).getMessage().contains(part);
  }

  /**
   * A 2-GPU queue over 2 nodes in {@code region}, and job {@code nowhere} admitted on it for a
   * region with no nodes: admitted on quota, the planner never finds room for it.
   */
  private void admittedNowhere(String ns, String queue, String region) {
    pool(region, 2);
    queue(queue, ns, 2);
    client.resource(training(ns, "nowhere", region + "-none", 2)).create();
    awaitJob(ns, "nowhere", reason("Admitted"));
  }

  /** A stall of the 500-job bench: admitted, never placed, it held its queue's quota for ever. */
  @Test
  void anAdmittedGangThatCannotBePlacedGivesItsQuotaBackAndTheNextJobRuns() {
    String ns = "queue-unplaced";
    admittedNowhere(ns, "q-unplaced", "r-qunpl");
    client.resource(training(ns, "next", "r-qunpl", 1)).create();

    // After the placement timeout (3 s in tests) it gives the quota back and waits at the back.
    awaitJob(ns, "next", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    // Its condition then says what it waits for; the event says why it let go.
    TrainingJob nowhere =
        awaitJob(ns, "nowhere", reason("Queued").and(j -> j.getStatus().queue.flavor == null));
    assertThat(nowhere.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(nowhere.getStatus().placements).isNullOrEmpty();
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                client.v1().events().inNamespace(ns).list().getItems().stream()
                    .anyMatch(
                        e ->
                            "QuotaReleased".equals(e.getReason())
                                && "nowhere".equals(e.getInvolvedObject().getName())
                                && e.getMessage().contains("quota given back")));
  }

  /**
   * A job that gave its quota back unplaced waits at the back of its priority level; its status
   * says since when, and a fresh controller rebuilt from what the running operator stored keeps it
   * there, behind a job created after it but before it gave the quota back.
   */
  @Test
  void aJobThatGaveItsQuotaBackKeepsItsPlaceAtTheBackForARestartedOperator() {
    String ns = "queue-unplaced-restart";
    admittedNowhere(ns, "q-unplaced-restart", "r-qunplr");
    // "first" is ahead of "second" (created after it, or in the same second: by name).
    client.resource(training(ns, "first", "r-qunplr", 2)).create();
    TrainingJob between = client.resource(training(ns, "second", "r-qunplr", 1)).create();

    awaitJob(ns, "first", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    TrainingJob nowhere =
        awaitJob(
            ns,
            "nowhere",
            reason("Queued")
                .and(j -> j.getStatus().queue.queuedSince != null)
                .and(j -> Integer.valueOf(2).equals(j.getStatus().queue.position)));
    assertThat(Instant.parse(nowhere.getStatus().queue.queuedSince))
        .isAfter(Instant.parse(between.getMetadata().getCreationTimestamp()));

    AdmissionController restarted =
        new AdmissionController(
            name -> OptionalInt.empty(),
            namespace -> Map.of(),
            new QueueMetrics(new SimpleMeterRegistry()),
            snapshot);
    assertThat(((Verdict.Queued) restarted.decide(nowhere)).position())
        .as("still at the back, not at its creation time")
        .isEqualTo(2);
    TrainingJob storedBetween =
        client.resources(TrainingJob.class).inNamespace(ns).withName("second").get();
    assertThat(((Verdict.Queued) restarted.decide(storedBetween)).position()).isEqualTo(1);

    client.resources(TrainingJob.class).inNamespace(ns).delete();
  }

  /**
   * bench-queues: 4 × 4 consumer gangs were admitted on quota no consumer node could ever hold and
   * kept it until their deadline. Now the gang waits without quota, says why, does not block the
   * job behind it, and is admitted once nodes that fit have joined.
   */
  @Test
  void aGangNoNodeShapeCanHoldWaitsWithoutQuotaUntilNodesThatFitJoin() {
    String ns = "queue-shape";
    String rtx = "NVIDIA-GeForce-RTX-3090";
    String provider = "prov-r-qshape";
    client.resource(TestNodes.provider(provider, rtx, "0.40")).create();
    for (int i = 0; i < 2; i++) {
      client
          .resource(TestNodes.gpuNode("r-qshape-1gpu-" + i, provider, rtx, 1, 24576, "r-qshape"))
          .create();
    }
    TestQueues.queue(client, "q-shape", ns, "rtx3090", rtx, 5, TIMEOUT);

    TrainingJob gang = training(ns, "gang", "r-qshape", 2);
    gang.getSpec().parallelism.gpusPerWorker = 2;
    gang.getSpec().resources.gpuModels = List.of(rtx);
    client.resource(gang).create();
    TrainingJob waiting =
        awaitJob(ns, "gang", reason("Queued").and(message("no node shape can hold it")));
    assertThat(admitted(waiting).getMessage())
        .contains("2 worker(s) of 2 GPU(s) on one node each")
        .contains("rtx3090 nodes hold 0 such worker(s) (largest node: 1 GPUs)");
    assertThat(waiting.getStatus().queue.flavor).isNull();

    TrainingJob small = training(ns, "small", "r-qshape", 1);
    small.getSpec().resources.gpuModels = List.of(rtx);
    client.resource(small).create();
    awaitJob(ns, "small", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));

    for (int i = 0; i < 2; i++) {
      client
          .resource(TestNodes.gpuNode("r-qshape-2gpu-" + i, provider, rtx, 2, 24576, "r-qshape"))
          .create();
    }
    awaitJob(ns, "gang", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
  }

  /** A stall of the 500-job bench: a victim with no pods never finished its eviction. */
  @Test
  void aVictimEvictedBeforeItWasPlacedLeavesAtOnceAndItsPreemptorRuns() {
    String ns = "queue-unplaced-victim";
    pool("r-qvic", 2);
    queue("q-victim", ns, 2);
    TrainingJob stranded = training(ns, "stranded", "r-qvic-none", 2);
    stranded.getSpec().preemption = new JobPreemption();
    stranded.getSpec().preemption.gracePeriodSeconds = 600; // no pods: no notice to wait out
    client.resource(stranded).create();
    awaitJob(ns, "stranded", reason("Admitted"));

    TrainingJob urgent = training(ns, "urgent", "r-qvic", 2);
    urgent.getSpec().priority = 100;
    client.resource(urgent).create();
    awaitJob(ns, "urgent", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    TrainingJob victim =
        awaitJob(
            ns, "stranded", reason("Preempted").and(j -> j.getStatus().queue.preemptions != null));
    assertThat(victim.getStatus().queue.preemptions).isEqualTo(1);
    assertThat(admitted(victim).getMessage()).startsWith("preempted, back in its queue");
    assertThat(victim.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
  }

  /** A stall of the 500-job bench: jobs marked Inadmissible at quota 0 were never re-offered. */
  @Test
  void jobsMarkedInadmissibleAreReofferedWhenTheirQueueIsRaised() {
    String ns = "queue-raise";
    pool("r-qraise", 2);
    queue("q-raise", ns, 0);
    client.resource(training(ns, "big", "r-qraise", 2)).create();
    awaitJob(ns, "big", reason("Inadmissible").and(message("more than 0")));
    client.resource(training(ns, "small", "r-qraise", 1)).create();
    awaitJob(ns, "small", reason("Inadmissible"));

    setQuota("q-raise", 1);
    awaitJob(ns, "small", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
    awaitJob(ns, "big", reason("Inadmissible").and(message("more than 1")));

    // Raised to 2 while small runs: big can fit one day, so it is queued, first in line.
    setQuota("q-raise", 2);
    TrainingJob big =
        awaitJob(
            ns,
            "big",
            reason("Queued").and(j -> Integer.valueOf(1).equals(j.getStatus().queue.position)));
    assertThat(big.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);

    FakeKubelet kubelet = new FakeKubelet(client);
    List<Pod> smallPods = awaitPods(ns, "small", 1);
    smallPods.forEach(kubelet::run);
    smallPods.forEach(kubelet::succeed);
    awaitJob(ns, "big", phase(TrainingJobPhase.Scheduled).and(reason("Admitted")));
  }

  /** Without a queue it is placed as before queues existed; a queue created later takes it in. */
  @Test
  void aJobWaitingOutsideAnyQueueIsTakenInByAQueueCreatedLater() {
    String ns = "queue-later";
    // Its region has no nodes: it waits, Pending, with no queue status and no Admitted condition.
    client.resource(training(ns, "early", "r-qlater-none", 1)).create();
    TrainingJob early = awaitJob(ns, "early", j -> j.getStatus().phase == TrainingJobPhase.Pending);
    assertThat(early.getStatus().queue).isNull();
    assertThat(admitted(early)).isNull();

    queue("q-later", ns, 1);
    TrainingJob taken = awaitJob(ns, "early", reason("Admitted"));
    assertThat(taken.getStatus().queue.name).isEqualTo("q-later");
  }
}
