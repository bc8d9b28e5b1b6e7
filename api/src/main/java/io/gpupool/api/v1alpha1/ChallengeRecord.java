package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Hardware challenges of a provider's nodes so far. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ChallengeRecord {
  /** Challenges answered correctly in time. */
  public Integer passed;

  /** Challenges answered wrongly, too slowly or not at all. */
  public Integer failed;

  /** When the last challenge of any of its nodes ended (RFC 3339). */
  public String lastChallengeTime;

  /** Nodes quarantined by a failed challenge (no new work), by node name. */
  public List<QuarantinedNode> quarantined;

  /**
   * Nodes that computed correctly but slower than their labels claim, by node name: planned and
   * priced at the speed measured instead of quarantined.
   */
  public List<SpeedCorrectedNode> speedCorrected;

  /**
   * Nodes whose last challenge passed at their claimed speed, by node name, with when they are
   * challenged next: a restarted operator keeps the pass and the schedule.
   */
  public List<PassedNode> passedNodes;
}
