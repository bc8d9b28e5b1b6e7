package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import java.util.List;

/**
 * Everything admission must know before its first decision after a start: the GpuQueues and the
 * jobs as the API server stores them. Read once, eagerly; a failed read throws (the reconcile that
 * asked is retried) rather than letting a round decide on a half-known book.
 */
@FunctionalInterface
public interface AdmissionSnapshot {
  /** No cluster to read (a fresh book, as in pure tests). */
  AdmissionSnapshot EMPTY = () -> new State(List.of(), List.of(), List.of());

  State read();

  /** What the cluster holds. */
  record State(
      List<GpuQueue> queues, List<TrainingJob> trainingJobs, List<InferenceJob> inferenceJobs) {

    /** A cluster without InferenceJobs. */
    public State(List<GpuQueue> queues, List<TrainingJob> trainingJobs) {
      this(queues, trainingJobs, List.of());
    }
  }
}
