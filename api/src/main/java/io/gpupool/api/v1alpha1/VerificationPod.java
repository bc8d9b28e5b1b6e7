package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A verifier or referee pod the operator ran for a TrainingJob's spot-checks. Listed in status so
 * that billing meters it (charged to the job's payer, like a rank) and so the check survives an
 * operator restart.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class VerificationPod {
  /** The pod's name. */
  public String pod;

  /** The node it is bound to. */
  public String node;

  /** The GpuProvider of that node (never one that trained the interval). */
  public String provider;

  /** verifier (replays the interval) or referee (recomputes one step). */
  public String role;

  /** The interval checked: from this checkpoint step ... */
  public Long fromStep;

  /** ... to this one. */
  public Long toStep;

  /** Referee: the step it recomputes. */
  public Long step;

  /** Referee: the global rank whose step it recomputes. */
  public Integer rank;

  /** The disputes the job had when the pod was made: a proven cheat rewinds the checks. */
  public Integer epoch;

  /** False from its placement until the pod was created (status lists it first, for metering). */
  public Boolean created;

  /** Empty while the pod runs; then what it showed (verified, mismatch, provider_at_fault, ...). */
  public String outcome;

  /** GPU-seconds the pod ran, a decimal string, once it ended. */
  public String gpuSeconds;
}
