package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** Cumulative usage one provider delivered to one job; the unit of on-chain settlement. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ProviderUsage {
  public String provider;

  /** Cumulative GPU-seconds, a decimal string. */
  public String gpuSeconds;

  /** Cumulative cost in the settlement token's smallest unit, a decimal integer string. */
  public String costWei;

  /** What the chain has confirmed as paid for this pair, smallest unit. */
  public String settledWei;
}
