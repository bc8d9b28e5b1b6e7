package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** Bounds the autoscaler keeps the replica count within. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value = "self.min <= self.max",
    message = "replicas.min must not exceed replicas.max",
    fieldPath = ".min",
    reason = "FieldValueInvalid")
public class ReplicaRange {
  @Min(0)
  @Max(256)
  @Default("1")
  public Integer min;

  @Required
  @Min(1)
  @Max(256)
  public Integer max;
}
