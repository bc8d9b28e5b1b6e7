package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Observed state of an InferenceJob; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class InferenceJobStatus extends JobStatus<InferenceJobPhase> {
  public Integer desiredReplicas;
  public Integer readyReplicas;
  public Integer totalGpus;
  public List<ReplicaStatus> replicas;

  /** In-cluster URL of the Service in front of ready replicas. */
  public String endpoint;

  /** Weights fetches of the job's pods so far, when spec.weights is set. */
  public CacheCounts cache;

  /** Canary cross-checks so far, when spec.verification.mode is CrossCheck. */
  public InferenceVerificationStatus verification;

  /** Its GpuQueue, place and admitted flavor, when a queue applies to the job. */
  public QueuePosition queue;

  /** Replicas its GpuQueue has admitted (the minimum and each one added since), when queued. */
  public Integer admittedReplicas;

  /**
   * Replicas above the minimum that its GpuQueue admitted or that wait in it (a scale-up, or a
   * replica preempted), when queued: what a restarted operator restores them from.
   */
  public List<QueuedReplica> queuedReplicas;
}
