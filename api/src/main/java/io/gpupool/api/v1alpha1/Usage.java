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

  /** Total cost in token units (e.g. "12.345678"), an exact decimal string. */
  public String cost;

  /** Total cost in the token's smallest unit (wei), exact. */
  public String costWei;

  /**
   * Total cost for people: fixed decimals and the token's symbol (e.g. "0.012133 ETH"); the COST
   * column. Rounded: compute with cost or costWei.
   */
  public String costDisplay;

  /** Total confirmed as settled on chain, token units. */
  public String settled;

  /** Total confirmed as settled on chain, wei, exact. */
  public String settledWei;

  /** Per provider, in the token's smallest unit. */
  public List<ProviderUsage> byProvider;
}
