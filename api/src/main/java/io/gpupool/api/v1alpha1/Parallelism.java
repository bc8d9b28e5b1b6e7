package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The shape of the gang: how many workers, how many GPUs each, and how the model is split. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value = "!has(self.minWorkers) || self.minWorkers <= self.workers",
    message = "minWorkers must not exceed workers",
    fieldPath = ".minWorkers",
    reason = "FieldValueInvalid")
public class Parallelism {
  @Default("Auto")
  @JsonPropertyDescription("DataParallel, PipelineParallel, or Auto (the planner chooses).")
  public ParallelismStrategy strategy;

  @Required
  @Min(1)
  @Max(1024)
  @JsonPropertyDescription("Workers (pods) in the gang; each is one torchrun node.")
  public Integer workers;

  @Min(1)
  @Max(8)
  @Default("1")
  @JsonPropertyDescription("GPUs per worker (processes per node).")
  public Integer gpusPerWorker;

  @Min(1)
  @Max(1024)
  @JsonPropertyDescription(
      "Fewest workers the job can run with; below workers it runs elastically (torchrun min:max).")
  public Integer minWorkers;
}
