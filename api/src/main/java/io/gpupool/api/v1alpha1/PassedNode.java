package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A node of the provider whose last hardware challenge passed at its claimed speed. Kept in status
 * so that a restarted operator neither forgets the pass (the provider would read NotYetChallenged,
 * and every node of the pool would be challenged at once as if it had just joined, outside the
 * GPU-time budget) nor draws its next random challenge afresh.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class PassedNode {
  /** The node's name. */
  public String node;

  /** The GPU product its labels claimed when it passed; relabelling it is a new claim. */
  public String product;

  /** When its last challenge ended (RFC 3339). */
  public String since;

  /** When its next random challenge is due (RFC 3339). */
  public String nextChallengeTime;

  /**
   * GPU-seconds its last challenge held (GPUs × seconds): counted against the challenge budget of
   * the hour after {@code since} by a restarted operator too.
   */
  public Double gpuSeconds;
}
