package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** How a job is told it is being evicted. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class JobPreemption {
  @Min(0)
  @Max(3600)
  @Default("60")
  @JsonPropertyDescription(
      "Seconds between the preemption notice (the file named by GPUPOOL_PREEMPT_NOTICE appears)"
          + " and the removal of the pods: time to write a checkpoint.")
  public Integer gracePeriodSeconds;
}
