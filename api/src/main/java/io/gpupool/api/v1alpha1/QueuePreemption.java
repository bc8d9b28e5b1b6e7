package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;

/** When a queue's jobs may evict others to be admitted. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class QueuePreemption {
  @Default("LowerPriority")
  @JsonPropertyDescription("Never or LowerPriority: evict lower-priority jobs of the same queue.")
  public WithinQueuePreemption withinQueue;

  @Default("Any")
  @JsonPropertyDescription(
      "Never, LowerPriority or Any: a job within its queue's nominal quota evicts jobs other"
          + " queues of the cohort run on quota they borrowed from it.")
  public ReclaimWithinCohort reclaimWithinCohort;
}
