package io.gpupool.operator.queue;

import static io.gpupool.operator.queue.AdmissionControllerTest.job;
import static io.gpupool.operator.queue.AdmissionControllerTest.queue;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.config.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class InferenceAdmissionTest {
  private final List<String> woken = new ArrayList<>();
  private AdmissionController controller;
  private InferenceAdmission inference;

  @BeforeEach
  void setUp() {
    Clock clock = new Ticking();
    controller =
        new AdmissionController(
            name -> OptionalInt.empty(),
            ns -> Map.of(),
            new QueueMetrics(new SimpleMeterRegistry()),
            clock);
    controller.onWake(woken::add);
    inference = new InferenceAdmission(controller, clock);
  }

  /** A second later at each reading: rounds and replicas are ordered in time as they would be. */
  private static final class Ticking extends Clock {
    private Instant now = Instant.parse("2026-12-06T02:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public synchronized Instant instant() {
      now = now.plusSeconds(1);
      return now;
    }
  }

  /** A queue of its own (no cohort: nothing to borrow) with {@code a100} GPUs. */
  private static GpuQueue alone(String name, int a100) {
    GpuQueue q = queue(name, a100, "team-a");
    q.getSpec().cohort = null;
    return q;
  }

  static InferenceJob serving(String name, int min, int max, int gpusPerReplica, String created) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace("team-a")
            .withName(name)
            .withCreationTimestamp(created)
            .build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.replicas = new ReplicaRange();
    spec.replicas.min = min;
    spec.replicas.max = max;
    spec.gpusPerReplica = gpusPerReplica;
    job.setSpec(spec);
    return job;
  }

  @Test
  void outsideAnyQueueTheJobRunsWhatItWants() {
    var r = inference.replicas(serving("llm", 1, 4, 1, "2026-12-06T01:00:00Z"), 3, false, 0, null);
    assertThat(r.notQueued()).isTrue();
    assertThat(r.allowed()).isEqualTo(3);
  }

  @Test
  void theMinimumCountsReplicasTimesGpusPerReplicaAndIsAdmittedWhole() {
    controller.putQueue(alone("team-a", 4));
    InferenceJob llm = serving("llm", 2, 4, 2, "2026-12-06T01:00:00Z");
    var r = inference.replicas(llm, 2, false, 0, null);
    assertThat(r.minimum()).isInstanceOf(Verdict.Admitted.class);
    assertThat(r.allowed()).isEqualTo(2);
    // 2 replicas x 2 GPUs: the queue's 4 GPUs are taken.
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 4);
    // Too big for the whole quota: never admitted, and it says why.
    var huge =
        inference.replicas(serving("huge", 3, 3, 2, "2026-12-06T01:02:00Z"), 3, false, 0, null);
    assertThat(huge.minimum()).isInstanceOf(Verdict.Inadmissible.class);
    assertThat(huge.allowed()).isZero();
    assertThat(controller.decide(job("team-a", "train", 1, "2026-12-06T01:01:00Z")))
        .isInstanceOf(Verdict.Queued.class);
  }

  @Test
  void aQueuedInferenceJobWaitsInPriorityThenArrivalOrderWithTrainingJobs() {
    controller.putQueue(alone("team-a", 4));
    TrainingJob running = job("team-a", "running", 4, "2026-12-06T00:00:00Z");
    assertThat(controller.decide(running)).isInstanceOf(Verdict.Admitted.class);
    InferenceJob llm = serving("llm", 1, 2, 3, "2026-12-06T01:00:00Z");
    TrainingJob later = job("team-a", "later", 3, "2026-12-06T01:01:00Z");
    TrainingJob urgent = job("team-a", "urgent", 3, "2026-12-06T01:02:00Z");
    urgent.getSpec().priority = 10;
    inference.replicas(llm, 1, false, 0, null);
    controller.decide(later);
    controller.decide(urgent);
    var waiting = inference.replicas(llm, 1, false, 0, null);
    // Behind the higher-priority job, ahead of the later one of equal priority.
    assertThat(((Verdict.Queued) waiting.minimum()).position()).isEqualTo(2);
    assertThat(((Verdict.Queued) controller.decide(later)).position()).isEqualTo(3);

    controller.ended(running);
    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Admitted.class);
    assertThat(inference.replicas(llm, 1, false, 0, null).minimum())
        .isInstanceOf(Verdict.Queued.class);
    controller.ended(urgent);
    woken.clear();
    var admitted = inference.replicas(llm, 1, false, 0, null);
    assertThat(admitted.minimum()).isInstanceOf(Verdict.Admitted.class);
    assertThat(admitted.allowed()).isEqualTo(1);
    assertThat(controller.decide(later)).isInstanceOf(Verdict.Queued.class);
  }

  @Test
  void anUnadmittableScaleUpKeepsTheSizeItHasAndScaleDownGivesQuotaBack() {
    controller.putQueue(alone("team-a", 4));
    InferenceJob llm = serving("llm", 1, 8, 1, "2026-12-06T01:00:00Z");
    assertThat(inference.replicas(llm, 1, false, 0, null).allowed()).isEqualTo(1);
    var scaled = inference.replicas(llm, 6, true, 1, null);
    assertThat(scaled.minimum()).isInstanceOf(Verdict.Admitted.class);
    assertThat(scaled.allowed()).isEqualTo(4);
    assertThat(scaled.queued()).isEqualTo(2);
    assertThat(scaled.position()).isEqualTo(1);
    TrainingJob train = job("team-a", "train", 2, "2026-12-06T01:05:00Z");
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Queued.class);

    woken.clear();
    var down = inference.replicas(llm, 2, true, 4, null);
    assertThat(down.allowed()).isEqualTo(2);
    assertThat(down.queued()).isZero();
    // The quota of the two replicas given back admits the job that waited.
    assertThat(woken).contains("team-a/train");
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Admitted.class);
    // Asking again for more is asking behind it.
    var again = inference.replicas(llm, 3, true, 2, null);
    assertThat(again.allowed()).isEqualTo(2);
    assertThat(again.queued()).isEqualTo(1);
  }

  @Test
  void aHigherPriorityJobTakesReplicasOneByOneAndTheMinimumLast() {
    controller.putQueue(alone("team-a", 4));
    InferenceJob llm = serving("llm", 1, 4, 1, "2026-12-06T01:00:00Z");
    inference.replicas(llm, 1, false, 0, null);
    assertThat(inference.replicas(llm, 4, true, 1, null).allowed()).isEqualTo(4);

    TrainingJob urgent = job("team-a", "urgent", 2, "2026-12-06T01:10:00Z");
    urgent.getSpec().priority = 100;
    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Queued.class);
    woken.clear();
    var r = inference.replicas(llm, 4, true, 4, null);
    // Two replicas above the minimum go; the minimum and one replica stay.
    assertThat(r.evicted()).hasSize(2);
    assertThat(r.evictedFor()).isEqualTo("team-a/urgent");
    assertThat(r.allowed()).isEqualTo(2);
    inference.replicasEvicted(r.evicted());
    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Admitted.class);
    // The evicted replicas wait in the queue again.
    var after = inference.replicas(llm, 4, true, 2, null);
    assertThat(after.allowed()).isEqualTo(2);
    assertThat(after.queued()).isEqualTo(2);

    TrainingJob bigger = job("team-a", "bigger", 2, "2026-12-06T01:11:00Z");
    bigger.getSpec().priority = 100;
    assertThat(controller.decide(bigger)).isInstanceOf(Verdict.Queued.class);
    var last = inference.replicas(llm, 4, true, 2, null);
    // Its one replica is not enough: the minimum goes too, the job waits in its queue.
    assertThat(last.minimum()).isInstanceOf(Verdict.Evicted.class);
    inference.minimumEvicted(llm);
    assertThat(controller.decide(bigger)).isInstanceOf(Verdict.Admitted.class);
    var queued = inference.replicas(llm, 1, false, 0, null);
    assertThat(queued.minimum()).isInstanceOf(Verdict.Queued.class);
    assertThat(queued.allowed()).isZero();
  }

  @Test
  void afterARestartTheReplicasAJobRunsAreCountedAsTheyAre() {
    controller.putQueue(alone("team-a", 4));
    InferenceJob llm = serving("llm", 1, 4, 1, "2026-12-06T01:00:00Z");
    var r = inference.replicas(llm, 3, true, 3, "a100");
    assertThat(r.allowed()).isEqualTo(3);
    assertThat(controller.decide(job("team-a", "train", 2, "2026-12-06T01:05:00Z")))
        .isInstanceOf(Verdict.Queued.class);
  }

  @Test
  void aDeletedJobGivesAllItsQuotaBack() {
    controller.putQueue(alone("team-a", 4));
    InferenceJob llm = serving("llm", 1, 4, 1, "2026-12-06T01:00:00Z");
    inference.replicas(llm, 1, false, 0, null);
    inference.replicas(llm, 4, true, 1, null);
    TrainingJob train = job("team-a", "train", 4, "2026-12-06T01:05:00Z");
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Queued.class);
    inference.ended(llm);
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Admitted.class);
  }

  /** A controller on a clock the test moves, its timer run by hand ({@link #runDue}). */
  private InferenceAdmission movable(ManualClock clock) {
    controller =
        new AdmissionController(
            name -> OptionalInt.empty(),
            ns -> Map.of(),
            new QueueMetrics(new SimpleMeterRegistry()),
            clock,
            AdmissionSnapshot.EMPTY,
            Duration.ofMinutes(5));
    controller.onWake(woken::add);
    controller.refreshPositionsWith(
        (task, after) -> timer.add(Map.entry(clock.millis() + after.toMillis(), task)));
    return new InferenceAdmission(controller, clock);
  }

  private final List<Map.Entry<Long, Runnable>> timer = new ArrayList<>();

  private void runDue(Clock clock) {
    List<Map.Entry<Long, Runnable>> due =
        timer.stream().filter(e -> e.getKey() <= clock.millis()).toList();
    timer.removeAll(due);
    due.forEach(e -> e.getValue().run());
  }

  @Test
  void replicasNotPlacedWithinTheTimeoutGiveTheirQuotaBack() {
    var clock = new ManualClock("2026-12-06T02:00:00Z");
    InferenceAdmission admission = movable(clock);
    controller.putQueue(alone("team-a", 3));
    InferenceJob llm = serving("llm", 1, 3, 1, "2026-12-06T01:00:00Z");
    admission.replicas(llm, 1, false, 0, null);
    clock.now = clock.now.plusSeconds(1);
    assertThat(admission.replicas(llm, 3, true, 1, null).allowed()).isEqualTo(3);
    TrainingJob train = job("team-a", "train", 2, "2026-12-06T01:05:00Z");
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Queued.class);

    // One group runs (the minimum): the two replicas admitted after it keep their quota a while.
    assertThat(admission.unplaced(llm, 1)).contains(Duration.ofMinutes(5));
    clock.now = clock.now.plusSeconds(299);
    assertThat(admission.unplaced(llm, 1)).contains(Duration.ofSeconds(1));
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Queued.class);
    clock.now = clock.now.plusSeconds(1);
    woken.clear();
    assertThat(admission.unplaced(llm, 1)).isEmpty();
    assertThat(woken).contains("team-a/train");
    assertThat(controller.decide(train)).isInstanceOf(Verdict.Admitted.class);
    // The minimum, placed, kept its quota; the replicas wait behind the job admitted instead.
    var after = admission.replicas(llm, 3, true, 1, null);
    assertThat(after.minimum()).isInstanceOf(Verdict.Admitted.class);
    assertThat(after.allowed()).isEqualTo(1);
    assertThat(after.queued()).isEqualTo(2);
  }
}
