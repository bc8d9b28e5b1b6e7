package io.gpupool.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.status.Conditions;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QueueGateTest {
  static final String A100 = AdmissionControllerTest.A100;
  static final String RTX = AdmissionControllerTest.RTX;

  private final TrainingJobStatus status = new TrainingJobStatus();
  private final QueueGate.ConditionSink sink =
      (type, value, reason, message) ->
          Conditions.set(status.conditions, type, value, reason, message, 1L, Instant.EPOCH);

  private String reason() {
    return Conditions.find(status.conditions, QueueGate.ADMITTED).orElseThrow().getReason();
  }

  @Test
  void aQueuedJobShowsItsPlaceAndIsNotPlaced() {
    assertThat(QueueGate.mayPlace(status, new Verdict.Queued("team-a", 3, "needs 4", 5), sink))
        .isFalse();
    assertThat(status.queue.name).isEqualTo("team-a");
    assertThat(status.queue.position).isEqualTo(3);
    assertThat(status.queue.priority).isEqualTo(5);
    assertThat(reason()).isEqualTo("Queued");
  }

  @Test
  void anAdmittedJobLosesItsPositionAndShowsItsFlavor() {
    QueueGate.mayPlace(status, new Verdict.Queued("team-a", 1, "waiting", 0), sink);
    assertThat(
            QueueGate.mayPlace(
                status, new Verdict.Admitted("team-a", "a100", Set.of(A100), 0), sink))
        .isTrue();
    assertThat(status.queue.position).isNull();
    assertThat(status.queue.flavor).isEqualTo("a100");
    assertThat(Conditions.isTrue(status.conditions, QueueGate.ADMITTED)).isTrue();
  }

  @Test
  void aPreemptedJobSaysSoUntilAdmittedAgainAndCountsItsPreemptions() {
    QueueGate.preempted(status, "team-a", "preempted by team-a/urgent", sink);
    QueueGate.evictionDone(status, "team-a");
    QueueGate.mayPlace(status, new Verdict.Queued("team-a", 1, "waiting", 0), sink);
    assertThat(reason()).isEqualTo("Preempted");
    assertThat(status.queue.preemptions).isEqualTo(1);
    QueueGate.mayPlace(status, new Verdict.Admitted("team-a", "a100", Set.of(A100), 0), sink);
    assertThat(reason()).isEqualTo("Admitted");
    assertThat(status.queue.preemptions).isEqualTo(1);
  }

  @Test
  void withoutAQueueNothingIsShownAndTheJobIsPlaced() {
    assertThat(QueueGate.mayPlace(status, new Verdict.NotQueued(), sink)).isTrue();
    assertThat(status.queue).isNull();
    assertThat(status.conditions).isEmpty();
  }

  @Test
  void anInadmissibleJobSaysWhy() {
    assertThat(
            QueueGate.mayPlace(status, new Verdict.Inadmissible("team-a", "no quota for X"), sink))
        .isFalse();
    assertThat(reason()).isEqualTo("Inadmissible");
  }

  @Test
  void placementIsNarrowedToTheAdmittedFlavorsProducts() {
    TrainingJob any = AdmissionControllerTest.job("ns", "j", 2, "2026-12-06T00:00:00Z");
    TrainingJob narrowed =
        QueueGate.restricted(any, new Verdict.Admitted("q", "a100", Set.of(A100), 0));
    assertThat(narrowed.getSpec().resources.gpuModels).containsExactly(A100);
    assertThat(any.getSpec().resources).as("the job itself is left alone").isNull();
    assertThat(narrowed.getSpec().parallelism).isSameAs(any.getSpec().parallelism);

    TrainingJob both = AdmissionControllerTest.job("ns", "k", 2, "2026-12-06T00:00:00Z");
    both.getSpec().resources = new GpuRequirements();
    both.getSpec().resources.gpuModels = List.of(RTX, A100);
    both.getSpec().resources.cpu = "8";
    TrainingJob n2 = QueueGate.restricted(both, new Verdict.Admitted("q", "a100", Set.of(A100), 0));
    assertThat(n2.getSpec().resources.gpuModels).containsExactly(A100);
    assertThat(n2.getSpec().resources.cpu).isEqualTo("8");
    assertThat(QueueGate.restricted(both, new Verdict.NotQueued())).isSameAs(both);
  }
}
