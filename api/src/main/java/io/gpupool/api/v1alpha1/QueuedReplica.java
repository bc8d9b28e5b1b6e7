package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One replica an InferenceJob runs or wants above its minimum, as its GpuQueue sees it. Each is a
 * workload of its own in the queue; kept in status so that a restarted operator gives it back the
 * place, the quota and the eviction count it had, rather than a place at its first reconcile.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class QueuedReplica {
  /** Its slot: replicas above the minimum are counted from {@code max(1, replicas.min)}. */
  public Integer slot;

  /** True while it holds quota; false while it waits in the queue. */
  public Boolean admitted;

  /**
   * Its arrival in the queue (RFC 3339): when the autoscaler asked for it, or when it last gave its
   * quota back unplaced. An evicted replica keeps it: it waits again in the place it had.
   */
  public String queuedSince;

  /** Times this replica was preempted. */
  public Integer preemptions;

  /** The workload its last eviction was for (namespace/name). */
  public String evictedFor;

  /** When it was last preempted (RFC 3339): its borrowing backoff runs from then. */
  public String preemptedAt;
}
