package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The fields a GpuQueue admits a job by, the same for both job kinds and checked by the same rules:
 * which queue ({@code spec.queue}) and its priority in it ({@code spec.priority} or {@code
 * spec.priorityClassName}, not both).
 */
@ValidationRule(
    value = "!has(self.priority) || !has(self.priorityClassName)",
    message = "set priority or priorityClassName, not both",
    fieldPath = ".priority",
    reason = "FieldValueForbidden")
public abstract class QueueableJobSpec implements JobSpec {
  @Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
  @Size(max = 63)
  @JsonPropertyDescription(
      "GpuQueue to be admitted through; default: the queue the namespace's gpupool.io/queue"
          + " label names, else the queue listing the namespace.")
  public String queue;

  @Min(-1000000000)
  @Max(1000000000)
  @JsonPropertyDescription(
      "Priority in its queue (higher first); default 0 or the value of priorityClassName.")
  public Integer priority;

  @Pattern("^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$")
  @Size(max = 253)
  @JsonPropertyDescription("A scheduling.k8s.io PriorityClass whose value is the priority.")
  public String priorityClassName;
}
