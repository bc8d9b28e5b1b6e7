package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** Weights fetches of a job's pods so far: found on the node (hits) or pulled (misses). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class CacheCounts {
  /** Pods whose node already held the weights. */
  public Long hits;

  /** Pods that had to pull the weights. */
  public Long misses;
}
