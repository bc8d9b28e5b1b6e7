package io.gpupool.operator.queue;

import static io.gpupool.operator.queue.AdmissionControllerTest.queue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.QueuePosition;
import io.gpupool.api.v1alpha1.QueuedReplica;
import io.gpupool.api.v1alpha1.RankPlacement;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.TrainingJobValidator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A restarted operator: the book is rebuilt from the stored jobs before its first decision, so the
 * first job reconciled after the start (whichever it is) is not admitted past jobs that hold quota
 * or that arrived earlier.
 */
class AdmissionRebuildTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private AdmissionController restarted(AdmissionSnapshot snapshot) {
    return new AdmissionController(
        name -> OptionalInt.empty(),
        ns -> Map.of(),
        new QueueMetrics(registry),
        Clock.fixed(Instant.parse("2026-12-06T03:00:00Z"), ZoneOffset.UTC),
        snapshot,
        PlacementTimeouts.DEFAULT);
  }

  static TrainingJob job(String name, int gpus, String created) {
    TrainingJob job = AdmissionControllerTest.job("team-a", name, gpus, created);
    job.getSpec().image = "ghcr.io/example/train:1";
    job.getSpec().model.parameters = "7B";
    job.getSpec().model.layers = 32;
    assertThat(TrainingJobValidator.validate(job).list()).isEmpty();
    return job;
  }

  static TrainingJob running(String name, int gpus, String created) {
    TrainingJob job = job(name, gpus, created);
    job.setStatus(new TrainingJobStatus());
    job.getStatus().phase = TrainingJobPhase.Running;
    RankPlacement p = new RankPlacement();
    p.rank = 0;
    p.node = "n1";
    p.gpus = gpus;
    job.getStatus().placements = List.of(p);
    job.getStatus().queue = new QueuePosition();
    job.getStatus().queue.name = "team-a";
    job.getStatus().queue.flavor = "a100";
    return job;
  }

  static TrainingJob waiting(String name, int gpus, String created) {
    TrainingJob job = job(name, gpus, created);
    job.setStatus(new TrainingJobStatus());
    job.getStatus().phase = TrainingJobPhase.Pending;
    return job;
  }

  @Test
  void theFirstJobReconciledAfterARestartIsNotAdmittedBeyondQuotaNorAheadOfEarlierJobs() {
    GpuQueue q = queue("team-a", 4, "team-a");
    TrainingJob holder = running("holder", 4, "2026-12-06T01:00:00Z");
    TrainingJob early = waiting("early", 4, "2026-12-06T01:10:00Z");
    TrainingJob late = waiting("late", 4, "2026-12-06T01:20:00Z");
    AdmissionController controller =
        restarted(() -> new AdmissionSnapshot.State(List.of(q), List.of(holder, early, late)));

    // The informers deliver in any order: the latest job first, before the holder or the queue.
    var late1 = (Verdict.Queued) controller.decide(late);
    assertThat(late1.position()).isEqualTo(2);
    assertThat(((Verdict.Queued) controller.decide(early)).position()).isEqualTo(1);
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 4);

    List<String> woken = new ArrayList<>();
    controller.onWake(woken::add);
    controller.ended(holder);
    assertThat(woken).contains("team-a/early");
    assertThat(controller.decide(early)).isInstanceOf(Verdict.Admitted.class);
    assertThat(controller.decide(late)).isInstanceOf(Verdict.Queued.class);
  }

  /**
   * A job evicted twice by cohort reclaim before the restart does not borrow again at once after
   * it: its status counts the evictions and says when the last began, and the backoff runs from
   * then. One evicted once borrows as before.
   */
  @Test
  void aJobEvictedTwiceBeforeARestartWaitsOutTheRestOfItsBorrowingBackoff() {
    GpuQueue lender = queue("team-b", 1, "team-b");
    GpuQueue borrower = queue("team-a", 0, "team-a");
    TrainingJob thrashed = evicted(waiting("thrashed", 1, "2026-12-06T01:00:00Z"), 2);
    TrainingJob once = evicted(waiting("once", 1, "2026-12-06T01:01:00Z"), 1);
    AdmissionController controller =
        restarted(
            () -> new AdmissionSnapshot.State(List.of(lender, borrower), List.of(thrashed, once)));

    var barred = (Verdict.Queued) controller.decide(thrashed);
    assertThat(barred.message())
        .startsWith("evicted 2 times: may borrow again from 2026-12-06T03:01:50Z");
    assertThat(controller.borrowingBackoff(thrashed)).contains(java.time.Duration.ofSeconds(110));
    // What the queue may borrow goes to the job behind it meanwhile.
    assertThat(controller.decide(once)).isInstanceOf(Verdict.Admitted.class);
  }

  /**
   * An eviction under way when the operator stopped (the victim's status names its preemptor and
   * deadline) is carried on as it was: the same deadline, no second victim chosen for the same
   * preemptor, and the preemptor admitted on the GPUs once the victim has left.
   */
  @Test
  void anEvictionUnderWayAtARestartIsCarriedOnNotMadeAgain() {
    GpuQueue q = queue("team-a", 4, "team-a");
    TrainingJob victim = running("victim", 2, "2026-12-06T01:00:00Z");
    victim.getStatus().queue.evictedFor = "team-a/urgent";
    victim.getStatus().queue.evictionDeadline = "2026-12-06T03:00:40Z";
    TrainingJob other = running("other", 2, "2026-12-06T01:01:00Z");
    TrainingJob urgent = waiting("urgent", 2, "2026-12-06T02:59:00Z");
    urgent.getSpec().priority = 100;
    AdmissionController controller =
        restarted(() -> new AdmissionSnapshot.State(List.of(q), List.of(other, urgent, victim)));

    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Queued.class);
    assertThat(controller.holding(other, "a100")).isInstanceOf(Verdict.Admitted.class);
    var evicted = (Verdict.Evicted) controller.holding(victim, "a100");
    assertThat(evicted.preemptor()).isEqualTo("team-a/urgent");
    assertThat(evicted.deadline()).isEqualTo(Instant.parse("2026-12-06T03:00:40Z"));
    assertThat(
            registry.find("gpupool.queue.preemptions").counters().stream()
                .mapToDouble(c -> c.count())
                .sum())
        .as("no eviction made again")
        .isZero();

    controller.evictionDone(victim);
    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Admitted.class);
    assertThat(controller.holding(other, "a100")).isInstanceOf(Verdict.Admitted.class);
    assertThat(((Verdict.Queued) controller.decide(victim)).position()).isEqualTo(1);
  }

  /** Its status after {@code times} evictions, the last noticed ten seconds before the restart. */
  private static TrainingJob evicted(TrainingJob job, int times) {
    job.getStatus().queue = new QueuePosition();
    job.getStatus().queue.name = "team-a";
    job.getStatus().queue.preemptions = times;
    job.getStatus()
        .conditions
        .add(
            new io.fabric8.kubernetes.api.model.ConditionBuilder()
                .withType(QueueGate.ADMITTED)
                .withStatus("False")
                .withReason("Preempted")
                .withLastTransitionTime("2026-12-06T02:59:50Z")
                .build());
    return job;
  }

  @Test
  void finishedSuspendedDeletedAndInvalidJobsTakeNoPart() {
    GpuQueue q = queue("team-a", 4, "team-a");
    TrainingJob done = running("done", 4, "2026-12-06T01:00:00Z");
    done.getStatus().phase = TrainingJobPhase.Succeeded;
    TrainingJob suspended = waiting("suspended", 4, "2026-12-06T01:01:00Z");
    suspended.getSpec().suspend = true;
    TrainingJob deleting = waiting("deleting", 4, "2026-12-06T01:02:00Z");
    deleting.getMetadata().setDeletionTimestamp("2026-12-06T02:00:00Z");
    TrainingJob invalid = waiting("invalid", 4, "2026-12-06T01:03:00Z");
    invalid.getSpec().image = null;
    TrainingJob mine = waiting("mine", 4, "2026-12-06T01:30:00Z");
    AdmissionController controller =
        restarted(
            () ->
                new AdmissionSnapshot.State(
                    List.of(q), List.of(done, suspended, deleting, invalid, mine)));
    assertThat(controller.decide(mine)).isInstanceOf(Verdict.Admitted.class);
  }

  @Test
  void theClusterIsReadOnceAndAFailedReadIsRetriedByTheNextCall() {
    AtomicInteger reads = new AtomicInteger();
    GpuQueue q = queue("team-a", 4, "team-a");
    AdmissionController controller =
        restarted(
            () -> {
              if (reads.incrementAndGet() == 1) {
                throw new IllegalStateException("API server unavailable");
              }
              return new AdmissionSnapshot.State(List.of(q), List.of());
            });
    TrainingJob first = waiting("first", 2, "2026-12-06T01:00:00Z");
    assertThatThrownBy(() -> controller.decide(first)).hasMessage("API server unavailable");
    assertThat(controller.decide(first)).isInstanceOf(Verdict.Admitted.class);
    controller.decide(waiting("second", 2, "2026-12-06T01:01:00Z"));
    controller.putQueue(q);
    assertThat(reads).hasValue(2);
  }

  static InferenceJob inference(String name, int replicas, String created) {
    InferenceJob job = InferenceAdmissionTest.serving(name, 1, 4, 1, created);
    job.getSpec().image = "ghcr.io/example/serve:1";
    job.getSpec().model = new ModelSpec();
    job.getSpec().model.parameters = "1B";
    job.getSpec().model.layers = 16;
    assertThat(InferenceJobValidator.validate(job).list()).isEmpty();
    job.setStatus(new InferenceJobStatus());
    job.getStatus().phase = replicas > 0 ? InferenceJobPhase.Serving : InferenceJobPhase.Pending;
    job.getStatus().replicas = new ArrayList<>();
    for (int i = 0; i < replicas; i++) {
      ReplicaStatus r = new ReplicaStatus();
      r.index = i;
      job.getStatus().replicas.add(r);
    }
    if (replicas > 0) {
      job.getStatus().queue = new QueuePosition();
      job.getStatus().queue.name = "team-a";
      job.getStatus().queue.flavor = "a100";
    }
    return job;
  }

  @Test
  void servingInferenceJobsCountEveryReplicaAndWaitingOnesKeepTheirPlace() {
    GpuQueue q = queue("team-a", 4, "team-a");
    q.getSpec().cohort = null;
    InferenceJob serving = inference("chat", 3, "2026-12-06T01:00:00Z");
    InferenceJob early = inference("early", 0, "2026-12-06T01:10:00Z");
    TrainingJob late = waiting("late", 1, "2026-12-06T01:20:00Z");
    AdmissionController controller =
        restarted(
            () -> new AdmissionSnapshot.State(List.of(q), List.of(late), List.of(serving, early)));
    InferenceAdmission inference = new InferenceAdmission(controller);

    // The TrainingJob is reconciled first: 3 of the 4 GPUs are the serving job's, and the last
    // goes to the InferenceJob that has waited longer.
    var queued = (Verdict.Queued) controller.decide(late);
    assertThat(queued.position()).isEqualTo(1);
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 4);
    assertThat(inference.replicas(early, 1, false, 0, null).minimum())
        .isInstanceOf(Verdict.Admitted.class);
    // Reconciled, the serving job keeps its three replicas: nothing is counted twice.
    assertThat(inference.replicas(serving, 3, true, 3, "a100").allowed()).isEqualTo(3);
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 4);
  }

  /** A replica above the minimum as a running operator stores it in status. */
  private static QueuedReplica slot(int slot, boolean admitted, String since) {
    QueuedReplica r = new QueuedReplica();
    r.slot = slot;
    r.admitted = admitted;
    r.queuedSince = since;
    return r;
  }

  private double preemptionsCounted() {
    return registry.find("gpupool.queue.preemptions").counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  /**
   * A replica preempted just before the restart (its job's status lists it waiting again, for whom,
   * since when it waits) is carried on: its preemptor is admitted on the quota it freed, no
   * eviction is made again, and the replica waits in the place it had — ahead of a job that arrived
   * after it — as does a scale-up replica that waited for quota. Neither goes to the back of the
   * queue at the job's first reconcile.
   */
  @Test
  void aReplicaEvictionAndAScaleUpWaitingAtARestartKeepTheirPlacesAndNothingIsEvictedAgain() {
    GpuQueue q = queue("team-a", 3, "team-a");
    q.getSpec().cohort = null;
    // Serving its minimum and slot 2; slot 1 was preempted for "urgent", slot 3 waits for quota.
    InferenceJob chat = inference("chat", 2, "2026-12-06T01:00:00Z");
    chat.getStatus().desiredReplicas = 4;
    QueuedReplica evicted = slot(1, false, "2026-12-06T01:05:00Z");
    evicted.preemptions = 1;
    evicted.evictedFor = "team-a/urgent";
    evicted.preemptedAt = "2026-12-06T02:59:00Z";
    chat.getStatus().queuedReplicas =
        List.of(
            evicted, slot(2, true, "2026-12-06T01:06:00Z"), slot(3, false, "2026-12-06T01:07:00Z"));
    // The preemptor's admission was not written before the stop: it is found waiting.
    TrainingJob urgent = waiting("urgent", 1, "2026-12-06T02:58:00Z");
    urgent.getSpec().priority = 100;
    TrainingJob late = waiting("late", 1, "2026-12-06T02:00:00Z");
    AdmissionController controller =
        restarted(
            () -> new AdmissionSnapshot.State(List.of(q), List.of(late, urgent), List.of(chat)));
    InferenceAdmission inference = new InferenceAdmission(controller);

    assertThat(controller.decide(urgent))
        .as("the preemptor takes the quota the replica freed")
        .isInstanceOf(Verdict.Admitted.class);
    assertThat(preemptionsCounted()).as("no eviction made again").isZero();
    assertThat(((Verdict.Queued) controller.decide(late)).position())
        .as("behind both of chat's waiting replicas, which asked before it")
        .isEqualTo(3);
    var r = inference.replicas(chat, 4, true, 2, "a100");
    assertThat(r.allowed()).isEqualTo(2);
    assertThat(r.queued()).isEqualTo(2);
    assertThat(r.position()).isEqualTo(1);
    assertThat(r.evicted()).isEmpty();
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 3);
  }

  /**
   * Victim choice after a restart sees the evictions each replica had before it: the replica
   * preempted once before (and admitted again) is spared, the other one of its level goes.
   */
  @Test
  void aReplicaPreemptedBeforeARestartIsNotTheNextVictimAgain() {
    GpuQueue q = queue("team-a", 3, "team-a");
    q.getSpec().cohort = null;
    InferenceJob chat = inference("chat", 3, "2026-12-06T01:00:00Z");
    chat.getStatus().desiredReplicas = 3;
    QueuedReplica once = slot(1, true, "2026-12-06T01:05:00Z");
    once.preemptions = 1;
    once.preemptedAt = "2026-12-06T02:00:00Z";
    chat.getStatus().queuedReplicas = List.of(once, slot(2, true, "2026-12-06T01:06:00Z"));
    // Its minimum has served since 01:01: evicting it would lose the most.
    chat.getStatus()
        .conditions
        .add(
            new io.fabric8.kubernetes.api.model.ConditionBuilder()
                .withType(QueueGate.ADMITTED)
                .withStatus("True")
                .withReason("Admitted")
                .withLastTransitionTime("2026-12-06T01:01:00Z")
                .build());
    TrainingJob urgent = waiting("urgent", 1, "2026-12-06T02:58:00Z");
    urgent.getSpec().priority = 100;
    AdmissionController controller =
        restarted(() -> new AdmissionSnapshot.State(List.of(q), List.of(urgent), List.of(chat)));
    InferenceAdmission inference = new InferenceAdmission(controller);

    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Queued.class);
    var r = inference.replicas(chat, 3, true, 3, "a100");
    assertThat(r.evicted()).containsExactly(InferenceWorkloads.replicaId(chat, 2));
    assertThat(r.allowed()).isEqualTo(2);
  }

  /**
   * A job that gave its quota back unplaced (status.queue.queuedSince) waits at the back of its
   * priority level after a restart too, not at its creation time; so does an InferenceJob's
   * minimum.
   */
  @Test
  void aJobThatGaveItsQuotaBackKeepsItsPlaceAtTheBackAcrossARestart() {
    GpuQueue q = queue("team-a", 2, "team-a");
    q.getSpec().cohort = null;
    TrainingJob holder = running("holder", 2, "2026-12-06T00:30:00Z");
    TrainingJob slow = waiting("slow", 2, "2026-12-06T01:00:00Z");
    slow.getStatus().queue = new QueuePosition();
    slow.getStatus().queue.name = "team-a";
    slow.getStatus().queue.queuedSince = "2026-12-06T02:30:00Z";
    InferenceJob chat = inference("chat", 0, "2026-12-06T01:01:00Z");
    chat.getStatus().queue = new QueuePosition();
    chat.getStatus().queue.name = "team-a";
    chat.getStatus().queue.queuedSince = "2026-12-06T02:40:00Z";
    TrainingJob next = waiting("next", 2, "2026-12-06T02:00:00Z");
    AdmissionController controller =
        restarted(
            () ->
                new AdmissionSnapshot.State(
                    List.of(q), List.of(holder, slow, next), List.of(chat)));

    assertThat(((Verdict.Queued) controller.decide(next)).position()).isEqualTo(1);
    assertThat(((Verdict.Queued) controller.decide(slow)).position()).isEqualTo(2);
    var minimum = new InferenceAdmission(controller).replicas(chat, 1, false, 0, null).minimum();
    assertThat(((Verdict.Queued) minimum).position()).isEqualTo(3);
    controller.ended(holder);
    assertThat(controller.decide(next)).isInstanceOf(Verdict.Admitted.class);
  }
}
