package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** What a provider has earned: metered, and confirmed on chain. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Earnings {
  /** Metered cost of usage delivered, display units. */
  public String accrued;

  /** Paid to the provider's on-chain balance, display units. */
  public String settled;

  /** GPU-seconds delivered. */
  public String gpuSeconds;
}
