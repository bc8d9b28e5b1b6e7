package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.scheduler.queue.Workload;
import java.time.Instant;
import java.util.Set;

/** A TrainingJob as the admission core sees it: its whole gang's GPUs, of the products it takes. */
public final class JobWorkloads {
  private JobWorkloads() {}

  /** The id the book knows a job by. */
  public static String id(TrainingJob job) {
    return job.getMetadata().getNamespace() + "/" + job.getMetadata().getName();
  }

  /** The job as its queue's applicant: its whole gang, at once. */
  static Applicant applicant(TrainingJob job) {
    TrainingJobSpec spec = job.getSpec();
    String created = job.getMetadata().getCreationTimestamp();
    return new Applicant(
        id(job),
        job.getMetadata().getNamespace(),
        spec.queue,
        spec.priority,
        spec.priorityClassName,
        grace(spec),
        created == null ? null : Instant.parse(created),
        (queue, priority) -> of(job, queue, priority));
  }

  private static int grace(TrainingJobSpec spec) {
    return spec.preemption == null || spec.preemption.gracePeriodSeconds == null
        ? EvictionNotices.DEFAULT_GRACE_SECONDS
        : spec.preemption.gracePeriodSeconds;
  }

  public static Workload of(TrainingJob job, String queue, int priority) {
    TrainingJobSpec spec = job.getSpec();
    int workers = spec.parallelism.workers;
    int perWorker = spec.parallelism.gpusPerWorker == null ? 1 : spec.parallelism.gpusPerWorker;
    String created = job.getMetadata().getCreationTimestamp();
    long arrival = created == null ? 0 : Instant.parse(created).toEpochMilli();
    Set<String> products =
        spec.resources == null || spec.resources.gpuModels == null
            ? Set.of()
            : Set.copyOf(spec.resources.gpuModels);
    // A job's deadline bounds how long it holds its GPUs: that is what lets it be backfilled.
    long runtime = spec.activeDeadlineSeconds == null ? 0 : spec.activeDeadlineSeconds * 1000;
    return new Workload(
        id(job), queue, priority, arrival, workers * perWorker, products, runtime, perWorker);
  }
}
