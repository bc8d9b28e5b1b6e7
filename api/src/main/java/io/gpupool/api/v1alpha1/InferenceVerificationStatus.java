package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** What the canary cross-checks of an InferenceJob found so far. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class InferenceVerificationStatus {
  /** Cross-checks run (each sends the canaries to every ready replica). */
  public Long checks;

  /** Checks in which some replica's answers differed from the others'. */
  public Long disagreements;

  /** Replicas found disagreeing with a majority of providers, disputed and replaced. */
  public Long disputes;

  /** When the last check ran (RFC 3339). */
  public String lastCheckTime;

  /** What the last check found, in words. */
  public String lastResult;

  /** GPU-seconds the canaries took on the replicas (time answering × GPUs of the replica). */
  public Double gpuSeconds;
}
