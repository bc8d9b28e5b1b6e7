package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A node of the provider that failed a hardware challenge (or whose paid work was found wrong) and
 * gets no new work. Kept in status so that a restarted operator keeps it out of placement instead
 * of challenging it again (a node that cheated once could answer honestly the next time).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class QuarantinedNode {
  /** The node's name. */
  public String node;

  /** The GPU product its labels claimed when it failed; relabelling it is a new claim. */
  public String product;

  /**
   * {@code WrongResult}, {@code FailedOpening} or {@code TooSlow} (a hardware challenge), {@code
   * WrongWork} (its paid work disagreed with other providers', e.g. inference canaries).
   */
  public String outcome;

  /** What the challenge showed. */
  public String message;

  /** When it failed (RFC 3339; absent for WrongWork). */
  public String since;
}
