package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/** Observed state of a TrainingJob; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class TrainingJobStatus extends JobStatus<TrainingJobPhase> {
  public List<RankPlacement> placements;
  public PlanSummary plan;
  public Integer restarts;

  /** The job's GpuQueue and its place there. */
  public QueuePosition queue;

  /** Checkpoint the current gang was told to resume from, if any. */
  public String resumeFrom;

  /** RFC 3339 time the job first started running. */
  public String startTime;

  /** RFC 3339 time the job finished (Succeeded or Failed). */
  public String completionTime;

  /** Spot-check results and their cost, when spec.verification asks for them. */
  public TrainingVerificationStatus verification;
}
