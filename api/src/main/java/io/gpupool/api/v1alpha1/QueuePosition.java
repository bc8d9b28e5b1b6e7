package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** Where a job stands in its GpuQueue. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class QueuePosition {
  /** The GpuQueue the job goes through. */
  public String name;

  /** 1-based place among the queue's pending jobs; absent once admitted. */
  public Integer position;

  /** Flavor whose quota the admitted job holds. */
  public String flavor;

  /** Effective priority (spec.priority or the PriorityClass's value). */
  public Integer priority;

  /**
   * When it went to the back of its priority level after giving its quota back unplaced ({@code
   * placement-timeout}), RFC 3339: its place in the queue counts from then, not from its creation,
   * across a restart too.
   */
  public String queuedSince;

  /** Times the job was preempted. */
  public Integer preemptions;

  /**
   * While it is given notice of an eviction: the workload it is evicted for (namespace/name). Kept
   * in status so a restarted operator carries the same eviction on rather than choosing again.
   */
  public String evictedFor;

  /** While it is given notice of an eviction: when its pods are removed (RFC 3339). */
  public String evictionDeadline;
}
