package io.gpupool.operator.inference;

import io.gpupool.operator.queue.AdmissionController;
import io.gpupool.operator.queue.InferenceAdmission;
import jakarta.inject.Singleton;

/**
 * The queue hooks of InferenceJobs: GpuQueue admission's decision rounds (which wake the jobs they
 * concern) and the per-replica quota an InferenceJob's minimum and scale-ups are admitted on.
 */
@Singleton
public class ReplicaQueues {
  private final AdmissionController rounds;
  private final InferenceAdmission admission;

  public ReplicaQueues(AdmissionController rounds, InferenceAdmission admission) {
    this.rounds = rounds;
    this.admission = admission;
  }

  /** The decision rounds: wake-ups, queues being added. */
  AdmissionController rounds() {
    return rounds;
  }

  /** A job's replicas offered to its queue and admitted on quota. */
  InferenceAdmission admission() {
    return admission;
  }
}
