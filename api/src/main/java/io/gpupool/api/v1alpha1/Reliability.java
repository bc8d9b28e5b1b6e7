package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** How dependable a provider has been; the score feeds placement. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Reliability {
  /** 0 to 1; 1 is a provider that never lost a node. */
  public Double score;

  /** Fraction of observed node-seconds the provider's nodes were Ready. */
  public Double uptime;

  /** Node failures (NotReady past the grace period, or removal while in use). */
  public Integer failures;

  /** Node-seconds observed. */
  public Long observedNodeSeconds;
}
