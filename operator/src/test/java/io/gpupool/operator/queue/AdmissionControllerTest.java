package io.gpupool.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.FlavorQuota;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.GpuQueueSpec;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.JobPreemption;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.QueueingStrategy;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.billing.CostCap;
import io.gpupool.operator.config.ManualClock;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.scheduler.queue.NodeShapes;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdmissionControllerTest {
  static final String A100 = "NVIDIA-A100-SXM4-80GB";
  static final String RTX = "NVIDIA-GeForce-RTX-4090";

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<String> woken = new ArrayList<>();
  private final Map<String, Map<String, String>> nsLabels =
      Map.of("team-b", Map.of(GpuQueue.NAMESPACE_LABEL, "team-b"));
  private AdmissionController controller;

  @BeforeEach
  void setUp() {
    PriorityClasses classes =
        name -> name.equals("urgent") ? OptionalInt.of(1000) : OptionalInt.empty();
    NamespaceLabels labels = ns -> nsLabels.getOrDefault(ns, Map.of());
    controller =
        new AdmissionController(
            classes,
            labels,
            new QueueMetrics(registry),
            Clock.fixed(Instant.parse("2026-12-06T02:00:00Z"), ZoneOffset.UTC));
    controller.onWake(woken::add);
  }

  static GpuQueue queue(String name, int a100, String... namespaces) {
    GpuQueue q = new GpuQueue();
    q.setMetadata(new ObjectMetaBuilder().withName(name).build());
    q.setSpec(new GpuQueueSpec());
    q.getSpec().cohort = "research";
    FlavorQuota quota = new FlavorQuota();
    quota.name = "a100";
    quota.products = List.of(A100);
    quota.nominal = a100;
    q.getSpec().quotas = List.of(quota);
    q.getSpec().namespaces = List.of(namespaces);
    return q;
  }

  static TrainingJob job(String ns, String name, int gpus, String created) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withNamespace(ns)
            .withName(name)
            .withCreationTimestamp(created)
            .build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = gpus;
    spec.parallelism.gpusPerWorker = 1;
    spec.model = new ModelSpec();
    job.setSpec(spec);
    return job;
  }

  @Test
  void withoutAQueueAJobIsNotQueued() {
    assertThat(controller.decide(job("team-a", "j", 1, "2026-12-06T01:00:00Z")))
        .isInstanceOf(Verdict.NotQueued.class);
  }

  @Test
  void queueComesFromTheJobTheNamespaceLabelOrTheQueuesNamespaces() {
    controller.putQueue(queue("team-a", 4, "team-a"));
    controller.putQueue(queue("team-b", 4));
    var byList =
        (Verdict.Admitted) controller.decide(job("team-a", "a", 1, "2026-12-06T01:00:00Z"));
    assertThat(byList.queue()).isEqualTo("team-a");
    assertThat(byList.products()).containsExactly(A100);
    var byLabel =
        (Verdict.Admitted) controller.decide(job("team-b", "b", 1, "2026-12-06T01:00:00Z"));
    assertThat(byLabel.queue()).isEqualTo("team-b");
    TrainingJob named = job("team-b", "named", 1, "2026-12-06T01:00:00Z");
    named.getSpec().queue = "team-a";
    assertThat(((Verdict.Admitted) controller.decide(named)).queue()).isEqualTo("team-a");
  }

  @Test
  void aJobBeyondQuotaIsQueuedWithItsPositionAndAdmittedWhenQuotaFrees() {
    controller.putQueue(queue("team-a", 4, "team-a"));
    TrainingJob first = job("team-a", "first", 8, "2026-12-06T01:00:00Z");
    TrainingJob second = job("team-a", "second", 4, "2026-12-06T01:01:00Z");
    TrainingJob third = job("team-a", "third", 2, "2026-12-06T01:02:00Z");
    controller.putQueue(queue("team-b", 4));
    assertThat(controller.decide(first)).isInstanceOf(Verdict.Admitted.class); // borrows 4
    var queued = (Verdict.Queued) controller.decide(second);
    assertThat(queued.position()).isEqualTo(1);
    assertThat(queued.message()).contains("needs 4 a100 GPUs");
    assertThat(((Verdict.Queued) controller.decide(third)).position()).isEqualTo(2);

    woken.clear();
    controller.ended(first);
    assertThat(woken).contains("team-a/second", "team-a/third");
    assertThat(controller.decide(second)).isInstanceOf(Verdict.Admitted.class);
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 6);
    assertThat(registry.find("gpupool.queue.admissions").tag("queue", "team-a").counter().count())
        .isEqualTo(3);
  }

  @Test
  void aHigherPriorityJobEvictsWithTheVictimsGraceAndTakesItsPlaceOnceItLeft() {
    controller.putQueue(queue("team-a", 4, "team-a"));
    TrainingJob low = job("team-a", "low", 4, "2026-12-06T01:00:00Z");
    low.getSpec().preemption = new JobPreemption();
    low.getSpec().preemption.gracePeriodSeconds = 90;
    assertThat(controller.decide(low)).isInstanceOf(Verdict.Admitted.class);

    TrainingJob urgent = job("team-a", "urgent", 4, "2026-12-06T01:30:00Z");
    urgent.getSpec().priorityClassName = "urgent";
    woken.clear();
    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Queued.class);
    assertThat(woken).contains("team-a/low");
    var evicted = (Verdict.Evicted) controller.decide(low);
    assertThat(evicted.preemptor()).isEqualTo("team-a/urgent");
    assertThat(evicted.deadline()).isEqualTo(Instant.parse("2026-12-06T02:01:30Z"));
    assertThat(
            registry
                .find("gpupool.queue.preemptions")
                .tags("queue", "team-a", "reason", "IN_QUEUE_PRIORITY")
                .counter()
                .count())
        .isEqualTo(1);

    woken.clear();
    controller.evictionDone(low);
    assertThat(woken).contains("team-a/urgent");
    assertThat(((Verdict.Admitted) controller.decide(urgent)).priority()).isEqualTo(1000);
    assertThat(((Verdict.Queued) controller.decide(low)).position()).isEqualTo(1);
  }

  @Test
  void aStaleCopyOfAnEvictedJobIsNotCountedAsRunningAgain() {
    controller.putQueue(queue("team-a", 4, "team-a"));
    TrainingJob low = job("team-a", "low", 4, "2026-12-06T01:00:00Z");
    controller.decide(low);
    TrainingJob urgent = job("team-a", "urgent", 4, "2026-12-06T01:30:00Z");
    urgent.getSpec().priorityClassName = "urgent";
    controller.decide(urgent);
    controller.evictionDone(low);
    // The informer still holds low's copy from before the eviction: status shows its GPUs.
    assertThat(controller.holding(low, "a100")).isEqualTo(new Verdict.Requeued("team-a"));
    assertThat(controller.decide(urgent)).isInstanceOf(Verdict.Admitted.class);
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 4);
    assertThat(controller.decide(low)).isInstanceOf(Verdict.Queued.class);
  }

  @Test
  void aMissingPriorityClassOrAnImpossibleDemandIsInadmissible() {
    controller.putQueue(queue("team-a", 4, "team-a"));
    TrainingJob unknown = job("team-a", "x", 1, "2026-12-06T01:00:00Z");
    unknown.getSpec().priorityClassName = "nope";
    assertThat(((Verdict.Inadmissible) controller.decide(unknown)).message())
        .isEqualTo("PriorityClass nope does not exist");
    TrainingJob rtx = job("team-a", "rtx", 1, "2026-12-06T01:00:00Z");
    rtx.getSpec().resources = new GpuRequirements();
    rtx.getSpec().resources.gpuModels = List.of(RTX);
    assertThat(((Verdict.Inadmissible) controller.decide(rtx)).message())
        .contains("no quota for GPU products [" + RTX + "]");
  }

  @Test
  void anUnchangedWaitingJobCostsNoDecisionRound() {
    controller.putQueue(queue("team-a", 1, "team-a"));
    controller.decide(job("team-a", "holder", 1, "2026-12-06T01:00:00Z"));
    TrainingJob waiting = job("team-a", "waiting", 1, "2026-12-06T01:01:00Z");
    controller.decide(waiting);
    long rounds = registry.find("gpupool.queue.admission.cycle").timer().count();
    for (int i = 0; i < 5; i++) {
      assertThat(controller.decide(waiting)).isInstanceOf(Verdict.Queued.class);
    }
    assertThat(registry.find("gpupool.queue.admission.cycle").timer().count()).isEqualTo(rounds);
    waiting.getSpec().priority = 7;
    controller.decide(waiting);
    assertThat(registry.find("gpupool.queue.admission.cycle").timer().count())
        .isEqualTo(rounds + 1);
  }

  @Test
  void aRunningJobFoundAfterARestartHoldsItsQuota() {
    controller.putQueue(queue("team-a", 4, "team-a"));
    assertThat(controller.holding(job("team-a", "running", 4, "2026-12-06T01:00:00Z"), null))
        .isInstanceOf(Verdict.Admitted.class);
    assertThat(controller.decide(job("team-a", "next", 1, "2026-12-06T01:05:00Z")))
        .isInstanceOf(Verdict.Queued.class);
  }

  @Test
  void aBadQueueIsRefusedNamingTheField() {
    GpuQueue bad = queue("bad", 4);
    bad.getSpec().quotas.get(0).lendingLimit = 5;
    assertThatThrownBy(() -> controller.putQueue(bad))
        .hasMessageContaining("spec.quotas[0]: Invalid value")
        .hasMessageContaining("lending limit");
  }

  private AdmissionController movable(ManualClock clock) {
    AdmissionController c =
        new AdmissionController(
            name -> OptionalInt.empty(),
            ns -> Map.of(),
            new QueueMetrics(registry),
            clock,
            AdmissionSnapshot.EMPTY,
            Duration.ofMinutes(5));
    c.onWake(woken::add);
    return c;
  }

  @Test
  void anAdmittedJobNotPlacedWithinTheTimeoutGivesItsQuotaBackAndWaitsAtTheBack() {
    ManualClock clock = new ManualClock("2026-12-06T02:00:00Z");
    AdmissionController c = movable(clock);
    c.putQueue(queue("team-a", 4, "team-a"));
    TrainingJob stuck = job("team-a", "stuck", 4, "2026-12-06T01:00:00Z");
    TrainingJob next = job("team-a", "next", 4, "2026-12-06T01:01:00Z");
    TrainingJob later = job("team-a", "later", 1, "2026-12-06T01:02:00Z");
    assertThat(c.decide(stuck)).isInstanceOf(Verdict.Admitted.class);
    assertThat(c.decide(next)).isInstanceOf(Verdict.Queued.class);

    // The planner finds no room for it: it keeps its quota for the timeout, not for ever.
    assertThat(c.unplaced(stuck)).contains(Duration.ofMinutes(5));
    clock.now = clock.now.plusSeconds(299);
    assertThat(c.unplaced(stuck)).contains(Duration.ofSeconds(1));
    assertThat(c.decide(next)).isInstanceOf(Verdict.Queued.class);
    clock.now = clock.now.plusSeconds(1);
    woken.clear();
    assertThat(c.unplaced(stuck)).isEmpty();
    assertThat(woken).contains("team-a/next");
    assertThat(c.decide(next)).isInstanceOf(Verdict.Admitted.class);

    // It waits behind every job of its priority that arrived before it gave the quota back.
    assertThat(c.decide(later)).isInstanceOf(Verdict.Queued.class);
    assertThat(((Verdict.Queued) c.decide(stuck)).position()).isEqualTo(2);
    assertThat(c.unplaced(stuck)).isEmpty(); // holds nothing now
    c.ended(next);
    assertThat(c.decide(later)).isInstanceOf(Verdict.Admitted.class);
    assertThat(c.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 1);
  }

  /**
   * A gang whose workers no node of its flavor can hold is not admitted on quota: it says why it
   * waits, holds nothing, and is woken and admitted when a node that fits joins.
   */
  @Test
  void aGangNoNodeCanHoldWaitsWithoutQuotaAndIsAdmittedWhenANodeJoins() {
    AtomicReference<NodeShapes> pool =
        new AtomicReference<>(new NodeShapes().add(A100, 4).add(A100, 2));
    controller.nodeShapes(pool::get);
    controller.putQueue(queue("team-a", 8, "team-a"));
    TrainingJob gang = job("team-a", "gang", 2, "2026-12-06T01:00:00Z");
    gang.getSpec().parallelism.gpusPerWorker = 4;
    var queued = (Verdict.Queued) controller.decide(gang);
    assertThat(queued.message())
        .startsWith("no node shape can hold it: 2 worker(s) of 4 GPU(s) on one node each")
        .contains("a100 nodes hold 1 such worker(s) (largest node: 4 GPUs)");
    assertThat(controller.usage("team-a").orElseThrow().inUse()).containsEntry("a100", 0);

    woken.clear();
    pool.set(new NodeShapes().add(A100, 4).add(A100, 8));
    controller.nodesChanged();
    assertThat(woken).contains("team-a/gang");
    assertThat(controller.decide(gang)).isInstanceOf(Verdict.Admitted.class);
  }

  /**
   * team-a's job borrows team-b's only GPU and is evicted twice by team-b's own jobs reclaiming it,
   * 10 s apart: after the first eviction it may borrow again at once, after the second it is in its
   * borrowing backoff when this returns.
   */
  private static TrainingJob evictedTwiceByReclaim(AdmissionController c, ManualClock clock) {
    c.putQueue(queue("team-a", 0, "team-a"));
    c.putQueue(queue("team-b", 1, "team-b"));
    TrainingJob borrower = job("team-a", "borrower", 1, "2026-12-06T01:00:00Z");
    assertThat(c.decide(borrower)).isInstanceOf(Verdict.Admitted.class);
    for (int i = 1; i <= 2; i++) {
      TrainingJob owner = job("team-b", "owner-" + i, 1, "2026-12-06T01:0" + i + ":00Z");
      assertThat(c.decide(owner)).isInstanceOf(Verdict.Queued.class);
      assertThat(c.decide(borrower)).isInstanceOf(Verdict.Evicted.class);
      c.evictionDone(borrower);
      assertThat(c.decide(owner)).isInstanceOf(Verdict.Admitted.class);
      c.ended(owner);
      clock.now = clock.now.plusSeconds(10);
      if (i == 1) {
        assertThat(c.decide(borrower)).isInstanceOf(Verdict.Admitted.class);
        assertThat(c.borrowingBackoff(borrower)).isEmpty();
      }
    }
    return borrower;
  }

  /**
   * A borrower evicted a second time by cohort reclaim may not borrow for the backoff; its
   * reconcile is told when that ends, and the first decision after it runs a round even though
   * nothing else happened in the pool.
   */
  @Test
  void aJobEvictedTwiceByReclaimBorrowsAgainOnlyAfterItsBackoff() {
    ManualClock clock = new ManualClock("2026-12-06T02:00:00Z");
    AdmissionController c = movable(clock);
    TrainingJob borrower = evictedTwiceByReclaim(c, clock);
    var queued = (Verdict.Queued) c.decide(borrower);
    assertThat(queued.message())
        .startsWith("evicted 2 times: may borrow again from 2026-12-06T02:02:10Z");
    assertThat(c.borrowingBackoff(borrower)).contains(Duration.ofSeconds(110));
    clock.now = clock.now.plusSeconds(110);
    assertThat(c.decide(borrower)).isInstanceOf(Verdict.Admitted.class);
  }

  /**
   * When a borrowing backoff ends, a round of its own admits the workload and wakes it, with
   * nothing else happening in the pool and no reconcile of its own asking: an InferenceJob's
   * replica has none (its job is woken through the replica's id).
   */
  @Test
  void aWorkloadInBorrowingBackoffIsAdmittedAndWokenWhenItEnds() {
    ManualClock clock = new ManualClock("2026-12-06T02:00:00Z");
    AdmissionController c = movable(clock);
    List<Map.Entry<Long, Runnable>> timer = new ArrayList<>();
    c.refreshPositionsWith(
        (task, after) -> timer.add(Map.entry(clock.millis() + after.toMillis(), task)));
    TrainingJob borrower = evictedTwiceByReclaim(c, clock);
    assertThat(c.decide(borrower)).isInstanceOf(Verdict.Queued.class);
    assertThat(c.borrowingBackoff(borrower)).isPresent();

    woken.clear();
    clock.now = clock.now.plus(c.borrowingBackoff(borrower).orElseThrow()).plusMillis(1);
    List<Map.Entry<Long, Runnable>> due =
        timer.stream().filter(e -> e.getKey() <= clock.millis()).toList();
    due.forEach(e -> e.getValue().run());
    assertThat(woken).contains("team-a/borrower");
    assertThat(c.holdsQuota("team-a/borrower")).isTrue();
  }

  @Test
  void jobsMarkedInadmissibleAreWokenAndAdmittedWhenTheirQueueOpens() {
    controller.putQueue(queue("team-a", 0, "team-a"));
    TrainingJob big = job("team-a", "big", 2, "2026-12-06T01:00:00Z");
    TrainingJob small = job("team-a", "small", 1, "2026-12-06T01:01:00Z");
    assertThat(((Verdict.Inadmissible) controller.decide(big)).message())
        .contains("can never hold more than 0");
    assertThat(controller.decide(small)).isInstanceOf(Verdict.Inadmissible.class);

    // Opened to 1: small is admitted; big stays first in line but still cannot fit, and is told so.
    woken.clear();
    controller.putQueue(queue("team-a", 1, "team-a"));
    assertThat(woken).contains("team-a/small", "team-a/big");
    assertThat(controller.decide(small)).isInstanceOf(Verdict.Admitted.class);
    assertThat(((Verdict.Inadmissible) controller.decide(big)).message())
        .contains("can never hold more than 1");

    // Opened to 2 while small runs: big can fit one day, so it is queued now, not inadmissible.
    woken.clear();
    controller.putQueue(queue("team-a", 2, "team-a"));
    assertThat(woken).contains("team-a/big");
    var queued = (Verdict.Queued) controller.decide(big);
    assertThat(queued.position()).isEqualTo(1);
    woken.clear();
    controller.ended(small);
    assertThat(woken).contains("team-a/big");
    assertThat(controller.decide(big)).isInstanceOf(Verdict.Admitted.class);
  }

  @Test
  void anInadmissibleJobARoundDidNotLookAtKeepsItsVerdictUntilAQueueChanges() {
    var strict = queue("team-a", 1, "team-a");
    strict.getSpec().queueingStrategy = QueueingStrategy.StrictFIFO;
    controller.putQueue(strict);
    TrainingJob holder = job("team-a", "holder", 1, "2026-12-06T01:00:00Z");
    TrainingJob head = job("team-a", "head", 1, "2026-12-06T01:01:00Z");
    TrainingJob huge = job("team-a", "huge", 8, "2026-12-06T01:02:00Z");
    controller.decide(holder);
    assertThat(controller.decide(huge)).isInstanceOf(Verdict.Inadmissible.class);
    // head arrived earlier and blocks the strict queue: rounds stop looking before huge, whose
    // demand no quota can cover all the same.
    controller.decide(head);
    controller.decide(job("team-a", "another", 1, "2026-12-06T01:03:00Z"));
    assertThat(controller.decide(huge)).isInstanceOf(Verdict.Inadmissible.class);
  }

  /** team-a's 4 GPUs held by {@code holder}, {@code next} queued behind it, and the hook told. */
  private record HolderAndNext(TrainingJob holder, TrainingJob next, QueueHook hook) {}

  private HolderAndNext holderAndNext(String holderName) {
    controller.putQueue(queue("team-a", 4, "team-a"));
    TrainingJob holder = job("team-a", holderName, 4, "2026-12-06T01:00:00Z");
    TrainingJob next = job("team-a", "next", 4, "2026-12-06T01:01:00Z");
    assertThat(controller.decide(holder)).isInstanceOf(Verdict.Admitted.class);
    assertThat(controller.decide(next)).isInstanceOf(Verdict.Queued.class);
    holder.setStatus(new TrainingJobStatus());
    return new HolderAndNext(
        holder, next, new QueueHook(controller, j -> {}, null, j -> List.of(), null));
  }

  @Test
  void aJobStoppedAtItsCostCapGivesItsQuotaBack() {
    HolderAndNext jobs = holderAndNext("capped");
    TrainingJob capped = jobs.holder();

    // Pods removed at its cap, Pending until the cap is raised: not a reason to keep the quota.
    capped.getStatus().phase = TrainingJobPhase.Pending;
    capped
        .getStatus()
        .conditions
        .add(
            new ConditionBuilder()
                .withType(JobConditions.FUNDED)
                .withStatus("False")
                .withReason(CostCap.REASON)
                .build());
    woken.clear();
    jobs.hook().released(capped);
    assertThat(woken).contains("team-a/next");
    assertThat(controller.decide(jobs.next())).isInstanceOf(Verdict.Admitted.class);
  }

  @Test
  void aSuspendedJobGivesItsQuotaBackAndARunningOneKeepsIt() {
    HolderAndNext jobs = holderAndNext("paused");
    TrainingJob paused = jobs.holder();

    // GPUs released for another reason (a move, a restart of its gang): the quota stays.
    paused.getStatus().phase = TrainingJobPhase.Running;
    jobs.hook().released(paused);
    assertThat(controller.decide(jobs.next())).isInstanceOf(Verdict.Queued.class);

    paused.getStatus().phase = TrainingJobPhase.Suspended;
    woken.clear();
    jobs.hook().released(paused);
    assertThat(woken).contains("team-a/next");
    assertThat(controller.decide(jobs.next())).isInstanceOf(Verdict.Admitted.class);
  }

  @Test
  void listenersHearOfEachQueueThatAppearsOnce() {
    List<String> added = new ArrayList<>();
    controller.onQueueAdded(added::add);
    controller.putQueue(queue("team-a", 4, "team-a"));
    controller.putQueue(queue("team-a", 8, "team-a"));
    controller.putQueue(queue("team-b", 4));
    assertThat(added).containsExactly("team-a", "team-b");
  }
}
