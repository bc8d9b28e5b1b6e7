package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** Quotas, cohort, fair-share weight and policies of a GpuQueue. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class GpuQueueSpec {
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  @Size(max = 63)
  @JsonPropertyDescription(
      "Queues naming the same cohort lend each other the quota they do not use.")
  public String cohort;

  @Min(0.01)
  @Max(1000)
  @Default("1")
  @JsonPropertyDescription(
      "Fair-share weight: within a cohort, free GPUs go first to the queue with the lowest"
          + " dominant share divided by its weight.")
  public Double weight;

  @Default("BestEffortFIFO")
  @JsonPropertyDescription("BestEffortFIFO or StrictFIFO.")
  public QueueingStrategy queueingStrategy;

  @Required
  @Size(min = 1, max = 16)
  @ValidationRule(
      value = "self.all(q, self.exists_one(o, o.name == q.name))",
      message = "each flavor may be listed once",
      reason = "FieldValueDuplicate")
  @JsonPropertyDescription(
      "Quotas per flavor, in the order a job tries them: it takes the first flavor whose"
          + " products it accepts and whose quota covers it.")
  public List<FlavorQuota> quotas;

  @JsonPropertyDescription("When jobs of this queue may evict others.")
  public QueuePreemption preemption;

  @Size(max = 256)
  @JsonPropertyDescription(
      "Namespaces whose jobs go to this queue unless they name one (spec.queue) or their"
          + " namespace carries the gpupool.io/queue label.")
  public List<String> namespaces;
}
