package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A node of the provider that answered its hardware challenge correctly but slower than the GPU
 * product its labels claim: it stays in placement, rated and priced at the speed measured. Kept in
 * status so that a restarted operator keeps planning it at that speed until a challenge shows the
 * claimed speed again.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class SpeedCorrectedNode {
  /** The node's name. */
  public String node;

  /** The GPU product its labels claim; relabelling it is a new claim, challenged afresh. */
  public String product;

  /**
   * Share of the claimed product's speed the node delivered, in (0, 1): the planner's speed figures
   * for its GPUs and the price per GPU-hour of pods placed there are scaled by it.
   */
  public Double speedFactor;

  /** What the challenge measured. */
  public String message;

  /** When it was measured (RFC 3339). */
  public String since;
}
