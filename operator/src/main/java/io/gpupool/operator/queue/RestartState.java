package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.validation.InferenceJobValidator;
import io.gpupool.operator.validation.TrainingJobValidator;

/** What a stored job means for admission when the operator starts. */
enum RestartState {
  /** It holds GPUs (its status records a placement): its quota is in use. */
  HOLDING,
  /** It wants GPUs and has none: it waits in its queue. */
  WAITING,
  /** Finished, suspended, being deleted or invalid: no part in admission. */
  NONE;

  /** An InferenceJob holds GPUs while its status lists replicas; it waits while it has none. */
  static RestartState of(InferenceJob job) {
    if (job.getSpec() == null || job.getMetadata().getDeletionTimestamp() != null) {
      return NONE;
    }
    InferenceJobStatus st = job.getStatus();
    if (st != null && st.phase == InferenceJobPhase.Suspended) {
      return NONE;
    }
    if (st != null && st.replicas != null && !st.replicas.isEmpty()) {
      return HOLDING;
    }
    if (Boolean.TRUE.equals(job.getSpec().suspend)
        || !InferenceJobValidator.validate(job).isEmpty()) {
      return NONE;
    }
    return WAITING;
  }

  static RestartState of(TrainingJob job) {
    if (job.getSpec() == null || job.getMetadata().getDeletionTimestamp() != null) {
      return NONE;
    }
    TrainingJobStatus st = job.getStatus();
    TrainingJobPhase phase = st == null ? null : st.phase;
    if (phase == TrainingJobPhase.Succeeded
        || phase == TrainingJobPhase.Failed
        || phase == TrainingJobPhase.Suspended) {
      return NONE;
    }
    if (st != null && st.placements != null && !st.placements.isEmpty()) {
      return HOLDING;
    }
    if (Boolean.TRUE.equals(job.getSpec().suspend)
        || !TrainingJobValidator.validate(job).isEmpty()) {
      return NONE;
    }
    return WAITING;
  }
}
