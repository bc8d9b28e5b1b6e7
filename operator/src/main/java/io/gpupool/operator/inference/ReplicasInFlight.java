package io.gpupool.operator.inference;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobPhase;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.operator.job.JobStep;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.status.JobConditions;
import io.gpupool.operator.workload.GroupBinder;
import java.time.Duration;
import java.util.Optional;

/**
 * An InferenceJob's replica groups between their placement and their pods: handed to the {@link
 * GroupBinder}, which records their billing terms and creates them off the reconcile thread. While
 * they are being created the job's step waits; a group not created is said once, in status and
 * events, and no group is placed again before the binder's backoff has ended.
 */
final class ReplicasInFlight {
  private final GroupBinder binder;
  private final EventRecorder events;

  ReplicasInFlight(GroupBinder binder, EventRecorder events) {
    this.binder = binder;
    this.events = events;
  }

  /** True while groups of the job are being created (the binder wakes it when that has ended). */
  boolean creating(InferenceJob job) {
    return binder.busy(job.getMetadata().getUid());
  }

  /**
   * True (and said as {@code Scheduled=False, reason ReplicaNotCreated}) when a group could not be
   * created: the binder deleted what it had created, so the planner must hold only what exists.
   */
  boolean notCreated(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
    Optional<String> failed = binder.takeFailure(s.job.getMetadata().getUid());
    failed.ifPresent(
        why -> {
          s.condition(JobConditions.SCHEDULED, false, "ReplicaNotCreated", why);
          events.record(s.job, EventRecorder.WARNING, "ReplicaNotCreated", why);
        });
    return failed.isPresent();
  }

  /** How long new groups must still wait after failed creations (5 s, doubling to 5 min). */
  Optional<Duration> holdOff(JobStep<InferenceJob, InferenceJobStatus, InferenceJobPhase> s) {
    return binder.holdOff(s.job.getMetadata().getUid(), s.now);
  }
}
