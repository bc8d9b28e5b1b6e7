package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** The plan the scheduler chose and why, for users to read in status. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class PlanSummary {
  /** DataParallel or PipelineParallel: what Auto resolved to. */
  public String strategy;

  public Integer stages;
  public Integer totalGpus;

  /** Estimated seconds per optimiser step. */
  public String estimatedStepSeconds;

  /** Estimated samples per second. */
  public String estimatedThroughput;

  /** Sum of the chosen GPUs' prices per hour. */
  public String pricePerHour;

  /** Why this plan was chosen. */
  public String reason;

  /** Alternatives considered and why they lost. */
  public List<String> rejected;
}
