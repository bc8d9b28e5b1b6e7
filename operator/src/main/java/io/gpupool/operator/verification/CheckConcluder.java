package io.gpupool.operator.verification;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.api.v1alpha1.TrainingVerificationStatus;
import io.gpupool.api.v1alpha1.VerificationPod;
import io.gpupool.operator.allocation.PodGpus;
import io.gpupool.operator.job.JobStep;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

/**
 * Closes a check's pod whatever its outcome: the outcome is written in status, the pod's GPU time
 * is added to the job's verification cost (status and metrics), and the GPU the check held is freed
 * for the next one.
 */
final class CheckConcluder {
  private final CheckPlacer placer;
  private final VerificationMetrics metrics;

  CheckConcluder(CheckPlacer placer, VerificationMetrics metrics) {
    this.placer = placer;
    this.metrics = metrics;
  }

  /** Marks a check's pod as done, counts its GPU time, and frees its GPU. */
  void conclude(
      JobStep<TrainingJob, TrainingJobStatus, TrainingJobPhase> s,
      TrainingVerificationStatus v,
      VerificationPod entry,
      String outcome,
      Pod pod) {
    entry.outcome = outcome;
    double seconds = pod == null ? 0 : gpuSeconds(pod);
    entry.gpuSeconds = String.format(Locale.ROOT, "%.1f", seconds);
    v.gpuSeconds = String.format(Locale.ROOT, "%.1f", Double.parseDouble(v.gpuSeconds) + seconds);
    metrics.gpuSeconds(VerificationMetrics.TRAINING, seconds);
    placer.release(SpotCheckRunner.holder(s.job));
  }

  /**
   * Its GPUs from the container's start (not before the pod was created, as the meter counts) to
   * its end, the pod's own times as the kubelet wrote them.
   */
  static double gpuSeconds(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return 0;
    }
    for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
      var t = cs.getState() == null ? null : cs.getState().getTerminated();
      if (t != null && t.getStartedAt() != null && t.getFinishedAt() != null) {
        Instant start = Instant.parse(t.getStartedAt());
        String created = pod.getMetadata().getCreationTimestamp();
        if (created != null && Instant.parse(created).isAfter(start)) {
          start = Instant.parse(created);
        }
        Duration d = Duration.between(start, Instant.parse(t.getFinishedAt()));
        return Math.max(0, d.toMillis() / 1000.0) * PodGpus.slots(pod);
      }
    }
    return 0;
  }
}
