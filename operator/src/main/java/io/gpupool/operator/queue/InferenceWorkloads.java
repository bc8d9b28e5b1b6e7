package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.scheduler.queue.Workload;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * An InferenceJob as the admission core sees it: one workload for its minimum replicas, admitted
 * before anything is placed and evicted whole, and one workload per replica the autoscaler adds
 * above the minimum, each admitted (or preempted) on its own. Ids carry a prefix so that they never
 * meet a TrainingJob's {@code namespace/name}.
 */
public final class InferenceWorkloads {
  static final String PREFIX = "inference:";
  private static final char REPLICA = '#';

  /** The largest replica count the schema allows: every slot a job may ever have offered. */
  static final int MAX_REPLICAS = 256;

  private InferenceWorkloads() {}

  /** The id of the job's minimum replicas. */
  public static String id(InferenceJob job) {
    return PREFIX + job.getMetadata().getNamespace() + "/" + job.getMetadata().getName();
  }

  /** The id of the replica in slot {@code k} (k at least the minimum). */
  static String replicaId(InferenceJob job, int k) {
    return id(job) + REPLICA + k;
  }

  public static boolean isInference(String id) {
    return id.startsWith(PREFIX);
  }

  /** {@code namespace/name} of the job a workload id belongs to; empty for a TrainingJob's. */
  public static Optional<String> jobOf(String id) {
    if (!isInference(id)) {
      return Optional.empty();
    }
    String rest = id.substring(PREFIX.length());
    int replica = rest.indexOf(REPLICA);
    return Optional.of(replica < 0 ? rest : rest.substring(0, replica));
  }

  /** Replicas always kept: at least one, as the inference loop counts them. */
  public static int floor(InferenceJobSpec spec) {
    return Math.max(1, spec.replicas.min == null ? 1 : spec.replicas.min);
  }

  /** GPUs one replica counts against its queue's quota. */
  public static int gpusPerReplica(InferenceJobSpec spec) {
    return spec.gpusPerReplica == null ? 1 : spec.gpusPerReplica;
  }

  static Set<String> products(InferenceJobSpec spec) {
    return spec.resources == null || spec.resources.gpuModels == null
        ? Set.of()
        : Set.copyOf(spec.resources.gpuModels);
  }

  /** The minimum replicas as one workload: all of them or none, unbounded in time. */
  static Applicant minimum(InferenceJob job) {
    InferenceJobSpec spec = job.getSpec();
    String created = job.getMetadata().getCreationTimestamp();
    long arrival = created == null ? 0 : Instant.parse(created).toEpochMilli();
    int gpus = floor(spec) * gpusPerReplica(spec);
    return applicant(
        job,
        id(job),
        created == null ? null : Instant.parse(created),
        (queue, priority) ->
            new Workload(id(job), queue, priority, arrival, gpus, products(spec), 0));
  }

  /**
   * One replica above the minimum, arriving when the autoscaler asked for it, on {@code products}
   * (those of the flavor its minimum was admitted on: a job's replicas share one flavor).
   */
  static Applicant replica(InferenceJob job, int slot, long arrival, Set<String> products) {
    InferenceJobSpec spec = job.getSpec();
    String id = replicaId(job, slot);
    int gpus = gpusPerReplica(spec);
    return applicant(
        job,
        id,
        Instant.ofEpochMilli(arrival),
        (queue, priority) -> new Workload(id, queue, priority, arrival, gpus, products, 0));
  }

  private static Applicant applicant(
      InferenceJob job, String id, Instant created, Applicant.WorkloadOf workload) {
    InferenceJobSpec spec = job.getSpec();
    // A replica has nothing to checkpoint: an eviction drains it at once.
    return new Applicant(
        id,
        job.getMetadata().getNamespace(),
        spec.queue,
        spec.priority,
        spec.priorityClassName,
        0,
        created,
        workload);
  }
}
