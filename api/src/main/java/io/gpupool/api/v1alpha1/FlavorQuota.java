package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** A quota in GPUs for a flavor: a named group of GPU products counted as one resource. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value = "!has(self.lendingLimit) || self.lendingLimit <= self.nominal",
    message = "lendingLimit cannot exceed nominal",
    fieldPath = ".lendingLimit",
    reason = "FieldValueInvalid")
public class FlavorQuota {
  @Required
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  @Size(max = 63)
  @JsonPropertyDescription(
      "Flavor name, shared by the queues of a cohort (e.g. a100); quotas of the same name lend"
          + " to each other.")
  public String name;

  @Required
  @Size(min = 1, max = 32)
  @JsonPropertyDescription(
      "GPU products of the flavor as GFD names them (nvidia.com/gpu.product); a job admitted on"
          + " this flavor is placed on these only.")
  public List<String> products;

  @Required
  @Min(0)
  @Max(1000000)
  @JsonPropertyDescription("GPUs the queue is guaranteed.")
  public Integer nominal;

  @Min(0)
  @Max(1000000)
  @JsonPropertyDescription(
      "GPUs beyond nominal the queue may borrow from its cohort; unset = no limit.")
  public Integer borrowingLimit;

  @Min(0)
  @Max(1000000)
  @JsonPropertyDescription(
      "GPUs of the nominal quota other queues of the cohort may borrow; unset = all of it.")
  public Integer lendingLimit;
}
