package io.gpupool.operator.training;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.QueuePosition;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import org.junit.jupiter.api.Test;

/** Which TrainingJobs a release of GPUs wakes. */
class CapacityWakeTest {

  private static TrainingJobStatus status(TrainingJobPhase phase, String queue, String flavor) {
    TrainingJobStatus s = new TrainingJobStatus();
    s.phase = phase;
    if (queue != null) {
      s.queue = new QueuePosition();
      s.queue.name = queue;
      s.queue.flavor = flavor;
    }
    return s;
  }

  @Test
  void aPendingJobOutsideQueuesIsWoken() {
    assertThat(TrainingJobReconciler.wantsCapacity(null, false)).isTrue();
    assertThat(
            TrainingJobReconciler.wantsCapacity(
                status(TrainingJobPhase.Pending, null, null), false))
        .isTrue();
  }

  @Test
  void aJobQueuedForQuotaIsLeftToAdmission() {
    assertThat(
            TrainingJobReconciler.wantsCapacity(
                status(TrainingJobPhase.Pending, "team", null), false))
        .isFalse();
  }

  @Test
  void aJobAdmittedSinceItsCachedStatusWasWrittenIsWoken() {
    // The cache still shows it queued (no flavor); admission has admitted it since.
    assertThat(
            TrainingJobReconciler.wantsCapacity(
                status(TrainingJobPhase.Pending, "team", null), true))
        .isTrue();
  }

  @Test
  void aRunningJobIsNotWokenForCapacity() {
    assertThat(
            TrainingJobReconciler.wantsCapacity(
                status(TrainingJobPhase.Running, "team", "a100"), true))
        .isFalse();
  }
}
