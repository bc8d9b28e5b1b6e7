package io.gpupool.operator.queue;

import io.gpupool.scheduler.queue.Workload;
import java.time.Instant;

/**
 * One workload a job offers to its queue, as {@link AdmissionController} needs to know it whatever
 * the job's kind: a TrainingJob's gang, an InferenceJob's minimum replicas, or one replica it
 * scaled up to.
 *
 * @param id the book's id ({@link JobWorkloads#id}, {@link InferenceWorkloads})
 * @param namespace the job's namespace (its queue may follow from it)
 * @param namedQueue {@code spec.queue}, or null
 * @param priority {@code spec.priority}, or null
 * @param priorityClassName {@code spec.priorityClassName}, or null
 * @param graceSeconds notice an eviction gives before the pods are removed
 * @param created the job's creation, or null (for the admission wait metric)
 * @param workload the workload once its queue and priority are known
 */
record Applicant(
    String id,
    String namespace,
    String namedQueue,
    Integer priority,
    String priorityClassName,
    int graceSeconds,
    Instant created,
    WorkloadOf workload) {

  /** Builds the workload in its queue at its priority. */
  @FunctionalInterface
  interface WorkloadOf {
    Workload of(String queue, int priority);
  }
}
