package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Metered usage of a job. Figures are cumulative and only grow, so they can be settled again and
 * again without paying twice.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Usage {
  /** Total GPU-seconds, a decimal string. */
  public String gpuSeconds;

  /** Total cost in display units (e.g. "12.345678"), a decimal string. */
  public String cost;

  /** Total confirmed as settled on chain, display units. */
  public String settled;

  /** Per provider, in the token's smallest unit. */
  public List<ProviderUsage> byProvider;
}
