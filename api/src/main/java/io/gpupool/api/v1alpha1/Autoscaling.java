package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/**
 * Scale on in-flight requests: each replica's leader reports them on its metrics endpoint and the
 * operator keeps the average near the target.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Autoscaling {
  @Min(1)
  @Max(100000)
  @Default("8")
  @JsonPropertyDescription("Target in-flight requests per replica.")
  public Integer targetInFlightRequests;

  @Min(0)
  @Max(3600)
  @Default("60")
  @JsonPropertyDescription("Seconds load must stay low before a replica is removed.")
  public Integer scaleDownStabilizationSeconds;

  @Default("/metrics")
  @Pattern(ApiPatterns.HTTP_PATH)
  @Size(max = 256)
  @JsonPropertyDescription("Path of the replica's Prometheus endpoint on spec.port.")
  public String metricsPath;
}
