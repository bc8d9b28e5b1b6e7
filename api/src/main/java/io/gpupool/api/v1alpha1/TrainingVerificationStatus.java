package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** What the spot-checks of a TrainingJob found so far, and what they cost. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class TrainingVerificationStatus {
  /** Checkpoint intervals replayed within tolerance. */
  public Integer verifiedIntervals;

  /** Checkpoint intervals whose replay differed beyond tolerance (refereed). */
  public Integer failedIntervals;

  /** Disputes filed against the job's providers after a referee confirmed a mismatch. */
  public Integer disputes;

  /** Step of the latest checkpoint every earlier sampled interval up to it verified. */
  public Long lastVerifiedCheckpoint;

  /** GPU-seconds of verifier and referee pods, a decimal string; charged apart from usage. */
  public String gpuSeconds;
}
