package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import io.gpupool.operator.validation.TrainingJobValidator;

/** What a stored job means for admission when the operator starts. */
enum RestartState {
  /** It holds GPUs (its status records a placement): its quota is in use. */
  HOLDING,
  /** It wants GPUs and has none: it waits in its queue. */
  WAITING,
  /** Finished, suspended, being deleted or invalid: no part in admission. */
  NONE;

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
