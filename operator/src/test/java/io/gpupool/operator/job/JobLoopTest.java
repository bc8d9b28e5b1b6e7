package io.gpupool.operator.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.RankPlacement;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.Usage;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.status.Conditions;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.status.StatusDiff;
import io.gpupool.operator.status.Written;
import io.gpupool.operator.validation.SpecProblems;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The shared job loop with a minimal kind: no Quarkus, no cluster. */
class JobLoopTest {
  private final List<String> events = new ArrayList<>();
  private final List<TrainingJobStatus> writes = new ArrayList<>();
  private TestKind loop;

  /**
   * The API server and the controller's cache as the loop sees them: each write stores the job at
   * the next version, and the cache ({@code cached}) shows it at once unless it lags.
   */
  private final class Cluster {
    long version = 1;
    TrainingJob cached;
    boolean lagging;
    int failingWrites;

    Written<TrainingJob> write(TrainingJob job) {
      if (failingWrites > 0) {
        failingWrites--;
        throw new IllegalStateException("503 from the API server");
      }
      writes.add(StatusDiff.copy(job.getStatus()));
      String basedOn = job.getMetadata().getResourceVersion();
      TrainingJob stored = StatusDiff.copy(job);
      stored.getMetadata().setResourceVersion(Long.toString(++version));
      if (!lagging) {
        cached.setStatus(StatusDiff.copy(stored.getStatus()));
        cached.getMetadata().setResourceVersion(stored.getMetadata().getResourceVersion());
      }
      return new Written<>(stored, List.of(basedOn));
    }
  }

  private final Cluster cluster = new Cluster();

  private static final Clock NOW =
      Clock.fixed(Instant.parse("2026-12-06T02:00:00Z"), ZoneOffset.UTC);

  /** How often usage is metered, as billing says. */
  private static final Duration METERING_INTERVAL = Duration.ofSeconds(7);

  /** What billing has metered for the job so far (null: nothing yet). */
  private Usage metered;

  private final JobLoop.Metering metering =
      new JobLoop.Metering(uid -> Optional.ofNullable(metered), () -> METERING_INTERVAL);

  private final EventRecorder recorder =
      new EventRecorder(null, null) {
        @Override
        public void record(HasMetadata subject, String type, String reason, String message) {
          events.add(type + " " + reason);
        }
      };

  /** One reconcile of the job as the cache holds it. */
  private JobLoop.Outcome reconcile(TrainingJob cached) {
    cluster.cached = cached;
    return loop.reconcile(cached, cluster::write);
  }

  private static Usage costing(String cost) {
    Usage u = new Usage();
    u.cost = cost;
    u.gpuSeconds = cost;
    u.settled = "0";
    return u;
  }

  /** A kind whose step places the job (one placement) unless told to give it up. */
  private final class TestKind extends JobLoop<TrainingJob, TrainingJobStatus, TrainingJobPhase> {
    boolean invalid;
    boolean giveUp;
    int drives;
    int stops;
    int releases;

    TestKind() {
      super(
          TrainingJobStatus.class,
          TrainingJobStatus::new,
          new Phases<>(
              TrainingJobPhase.Pending,
              TrainingJobPhase.Suspended,
              p -> p == TrainingJobPhase.Succeeded || p == TrainingJobPhase.Failed,
              p -> p == TrainingJobPhase.Failed,
              JobConditions.RUNNING),
          metering,
          recorder,
          new JobMetrics(new SimpleMeterRegistry()),
          NOW);
    }

    @Override
    protected String kind() {
      return "TrainingJob";
    }

    @Override
    protected SpecProblems validate(TrainingJob job) {
      SpecProblems p = new SpecProblems();
      if (invalid) {
        p.add("spec.image", "Required value");
      }
      return p;
    }

    @Override
    protected void stopWorkload(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
      stops++;
      s.status.placements = null;
    }

    @Override
    protected void drive(JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s) {
      drives++;
      if (giveUp) {
        s.status.placements = null;
        s.status.phase = TrainingJobPhase.Pending;
      } else {
        s.status.placements = new ArrayList<>(List.of(new RankPlacement()));
        s.status.phase = TrainingJobPhase.Scheduled;
      }
    }

    @Override
    protected boolean holdsNothing(TrainingJobStatus s) {
      return finished(s.phase)
          || s.phase == TrainingJobPhase.Suspended
          || s.placements == null
          || s.placements.isEmpty();
    }

    @Override
    protected void release(TrainingJob job) {
      releases++;
    }

    @Override
    protected boolean usageMoves(TrainingJobStatus s, boolean changed) {
      return false;
    }
  }

  private static TrainingJob job() {
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withName("j")
            .withNamespace("ns")
            .withUid("u")
            .withGeneration(1L)
            .withResourceVersion("1")
            .build());
    job.setSpec(new TrainingJobSpec());
    return job;
  }

  @BeforeEach
  void setUp() {
    loop = new TestKind();
  }

  @Test
  void anInvalidSpecIsRefusedOnceAndNeverDriven() {
    loop.invalid = true;
    TrainingJob job = job();
    reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(Conditions.find(job.getStatus().conditions, JobConditions.SPEC_VALID))
        .hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("InvalidSpec"));
    assertThat(events).containsExactly("Warning InvalidSpec", "Normal Pending");
    assertThat(writes).hasSize(1);
    reconcile(job); // the same copy again: nothing new to say or write
    assertThat(events).hasSize(2);
    assertThat(writes).hasSize(1);
    assertThat(loop.drives).isZero();
  }

  @Test
  void aPlacedJobKeepsItsGpusAndOneThatGivesUpReleasesThem() {
    TrainingJob job = job();
    reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Scheduled);
    assertThat(loop.releases).isZero();
    assertThat(job.getStatus().observedGeneration).isEqualTo(1L);
    loop.giveUp = true;
    reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(loop.releases).isEqualTo(1);
  }

  @Test
  void suspendStopsReleasesAndResumeDrivesAgain() {
    TrainingJob job = job();
    reconcile(job);
    job.getSpec().suspend = true;
    reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Suspended);
    assertThat(loop.stops).isEqualTo(1);
    assertThat(loop.releases).isEqualTo(1);
    assertThat(Conditions.isTrue(job.getStatus().conditions, JobConditions.SUSPENDED)).isTrue();
    assertThat(events).contains("Normal Suspended");
    reconcile(job); // stays suspended without stopping again
    assertThat(loop.stops).isEqualTo(1);

    job.getSpec().suspend = false;
    reconcile(job);
    assertThat(events).contains("Normal Resumed");
    assertThat(Conditions.find(job.getStatus().conditions, JobConditions.SUSPENDED)).isEmpty();
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Scheduled);
    assertThat(loop.drives).isEqualTo(2);
  }

  @Test
  void aFinishedJobIsNotDrivenAndHoldsNothing() {
    TrainingJob job = job();
    job.setStatus(new TrainingJobStatus());
    job.getStatus().phase = TrainingJobPhase.Succeeded;
    reconcile(job);
    assertThat(loop.drives).isZero();
    assertThat(loop.releases).isEqualTo(1);
  }

  @Test
  void aReconcileRightAfterAStatusWriteStartsFromIt() {
    TrainingJob job = job();
    TrainingJob beforeTheWrite = StatusDiff.copy(job);
    cluster.lagging = true;
    reconcile(job);
    assertThat(events).containsExactly("Normal Scheduled");
    // The cache has not delivered the write yet: a pod event wakes the job with the old copy.
    reconcile(beforeTheWrite);
    assertThat(events).as("Scheduled once: the reconcile knew it had placed the job").hasSize(1);
    assertThat(writes).as("nothing new to write").hasSize(1);
    assertThat(loop.releases).isZero();
  }

  @Test
  void theEchoOfAnEarlierWriteDoesNotHideALaterOne() {
    TrainingJob first = job(); // version 1, as the cache keeps handing it out
    cluster.lagging = true;
    reconcile(StatusDiff.copy(first)); // Scheduled, written as version 2, not yet delivered
    loop.giveUp = true;
    reconcile(StatusDiff.copy(first)); // Pending, written as version 3
    assertThat(writes)
        .extracting(s -> s.phase)
        .containsExactly(TrainingJobPhase.Scheduled, TrainingJobPhase.Pending);
    // The watch delivers version 2 (JOSDK 5.2.1 then drops its cached version 3).
    TrainingJob echo = StatusDiff.copy(first);
    echo.setStatus(StatusDiff.copy(writes.get(0)));
    echo.getMetadata().setResourceVersion("2");
    reconcile(echo);
    assertThat(events)
        .as("each phase entered once")
        .containsExactly("Normal Scheduled", "Normal Pending");
    assertThat(writes).as("version 3 is not written again").hasSize(2);
  }

  @Test
  void aStatusWriteThatFailedIsWrittenAgainByTheRetry() {
    cluster.failingWrites = 1;
    assertThatThrownBy(() -> reconcile(job())).hasMessageContaining("503");
    assertThat(writes).isEmpty();
    // The retry starts from the same cached copy: the decision the failed write carried must
    // still reach the server, not be taken for one already written.
    reconcile(job());
    assertThat(writes).hasSize(1);
    assertThat(writes.get(0).phase).isEqualTo(TrainingJobPhase.Scheduled);
    assertThat(events).as("the retry continues the decision").containsExactly("Normal Scheduled");
  }

  private static Budget cap(String maxCost) {
    Budget b = new Budget();
    b.maxCost = maxCost;
    return b;
  }

  @Test
  void aTrainingJobStopsAtItsCapRightAfterTheMeteringThatCrossesIt() {
    TrainingJob job = job();
    job.getSpec().budget = cap("1");
    JobLoop.Outcome placed = reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Scheduled);
    assertThat(loop.watchesCost(job)).as("woken after each metering").isTrue();
    assertThat(placed.recheck())
        .as("looked at again after a metering")
        .isEqualTo(METERING_INTERVAL);

    metered = costing("0.999");
    reconcile(job);
    assertThat(loop.stops).isZero();

    metered = costing("1.02"); // the metering that crosses the cap
    JobLoop.Outcome stopped = reconcile(job);
    assertThat(loop.stops).as("its pods removed at once").isEqualTo(1);
    assertThat(loop.drives).as("not driven once capped").isEqualTo(2);
    assertThat(loop.releases).as("its GPUs freed").isEqualTo(1);
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Pending);
    assertThat(job.getStatus().usage.cost).isEqualTo("1.02");
    assertThat(Conditions.find(job.getStatus().conditions, JobConditions.FUNDED))
        .hasValueSatisfying(
            c -> {
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getReason()).isEqualTo("BudgetExhausted");
              assertThat(c.getMessage()).contains("reached spec.budget.maxCost 1");
            });
    assertThat(Conditions.isTrue(job.getStatus().conditions, JobConditions.RUNNING)).isFalse();
    assertThat(events).contains("Warning Suspended", "Warning BudgetExhausted", "Normal Pending");
    assertThat(loop.watchesCost(job)).as("holds nothing any more").isFalse();
    assertThat(stopped.recheck()).as("waits for its spec to change").isNull();

    int said = events.size();
    reconcile(job); // still capped: not placed again, nothing new to say
    assertThat(loop.drives).isEqualTo(2);
    assertThat(loop.stops).isEqualTo(1);
    assertThat(events).hasSize(said);

    job.getSpec().budget.maxCost = "5"; // raised: placed again
    reconcile(job);
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Scheduled);
    assertThat(loop.drives).isEqualTo(3);
  }

  @Test
  void aJobWithoutACapOrWithoutGpusIsNotWatchedForCost() {
    TrainingJob job = job();
    JobLoop.Outcome placed = reconcile(job);
    assertThat(loop.watchesCost(job)).isFalse();
    assertThat(placed.recheck()).isNull();
    metered = costing("1000");
    reconcile(job);
    assertThat(loop.stops).isZero();
    assertThat(job.getStatus().phase).isEqualTo(TrainingJobPhase.Scheduled);

    TrainingJob waiting = job();
    waiting.getSpec().budget = cap("1");
    loop.giveUp = true;
    metered = null;
    reconcile(waiting);
    assertThat(loop.watchesCost(waiting)).as("Pending, no GPUs held").isFalse();
  }

  /** The InferenceJob kind's fields and phases, with a step that serves one replica. */
  private final class ServingKind
      extends JobLoop<InferenceJob, InferenceJobStatus, InferenceJobPhase> {
    int drives;
    int stops;
    int releases;

    ServingKind() {
      super(
          InferenceJobStatus.class,
          InferenceJobStatus::new,
          new Phases<>(
              InferenceJobPhase.Pending,
              InferenceJobPhase.Suspended,
              p -> false,
              p -> p == InferenceJobPhase.Degraded,
              "Serving"),
          metering,
          recorder,
          new JobMetrics(new SimpleMeterRegistry()),
          NOW);
    }

    @Override
    protected String kind() {
      return "InferenceJob";
    }

    @Override
    protected SpecProblems validate(InferenceJob job) {
      return new SpecProblems();
    }

    @Override
    protected void stopWorkload(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
      stops++;
      s.status.replicas = new ArrayList<>();
    }

    @Override
    protected void drive(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
      drives++;
      s.status.replicas = new ArrayList<>(List.of(new ReplicaStatus()));
      s.status.phase = InferenceJobPhase.Serving;
    }

    @Override
    protected boolean holdsNothing(InferenceJobStatus s) {
      return s.phase == InferenceJobPhase.Suspended
          || (s.phase == InferenceJobPhase.Pending && (s.replicas == null || s.replicas.isEmpty()));
    }

    @Override
    protected void release(InferenceJob job) {
      releases++;
    }

    @Override
    protected boolean usageMoves(InferenceJobStatus s, boolean changed) {
      return s.replicas != null && !s.replicas.isEmpty();
    }
  }

  @Test
  void anInferenceJobStopsAtItsCapRightAfterTheMeteringThatCrossesIt() {
    ServingKind serving = new ServingKind();
    InferenceJob job = new InferenceJob();
    job.setMetadata(
        new ObjectMetaBuilder()
            .withName("s")
            .withNamespace("ns")
            .withUid("v")
            .withGeneration(1L)
            .build());
    job.setSpec(new InferenceJobSpec());
    job.getSpec().budget = cap("0.5");
    JobLoop.Outcome first = serving.reconcile(job, j -> null);
    assertThat(job.getStatus().phase).isEqualTo(InferenceJobPhase.Serving);
    assertThat(serving.watchesCost(job)).isTrue();
    assertThat(first.recheck())
        .as("the metering interval, before the usage refresh")
        .isEqualTo(METERING_INTERVAL);

    metered = costing("0.5"); // the metering that reaches the cap
    serving.reconcile(job, j -> null);
    assertThat(serving.stops).isEqualTo(1);
    assertThat(serving.releases).isEqualTo(1);
    assertThat(serving.drives).isEqualTo(1);
    assertThat(job.getStatus().phase).isEqualTo(InferenceJobPhase.Pending);
    assertThat(job.getStatus().replicas).isEmpty();
    assertThat(Conditions.find(job.getStatus().conditions, "Serving"))
        .hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("BudgetExhausted"));
    assertThat(Conditions.find(job.getStatus().conditions, JobConditions.FUNDED))
        .hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("BudgetExhausted"));
    assertThat(serving.watchesCost(job)).isFalse();
  }
}
