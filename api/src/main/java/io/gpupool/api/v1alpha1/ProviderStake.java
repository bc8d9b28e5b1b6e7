package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/** What a provider has staked on chain with its own key, as last read by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ProviderStake {
  /** Committed stake (staked less what is being unstaked), display units. */
  public String staked;

  /** Being unstaked (still slashable until withdrawn), display units. */
  public String unstaking;

  /**
   * Stake placement requires for the provider's GPUs ({@code gpupool.trust.min-stake-per-gpu} ×
   * GPUs), display units; absent when the gate is off.
   */
  public String required;

  /** Whether placement uses the provider's nodes (the stake covers what is required). */
  public Boolean sufficient;

  /** When the chain was read (RFC 3339). */
  public String observedAt;
}
