package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/**
 * Scale on in-flight requests: each replica's leader reports them on its metrics endpoint and the
 * operator keeps the average near the target.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Autoscaling {
  @Min(1)
  @Max(100000)
  @Default(DEFAULT_TARGET_IN_FLIGHT_REQUESTS)
  @JsonPropertyDescription("Target in-flight requests per replica.")
  public Integer targetInFlightRequests;

  @Min(0)
  @Max(3600)
  @Default(DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS)
  @JsonPropertyDescription("Seconds load must stay low before a replica is removed.")
  public Integer scaleDownStabilizationSeconds;

  @Default("/metrics")
  @JsonPropertyDescription("Path of the replica's Prometheus endpoint on spec.port.")
  public String metricsPath;

  /** Schema defaults, the one place they are written. */
  public static final String DEFAULT_TARGET_IN_FLIGHT_REQUESTS = "8";

  public static final String DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS = "60";

  /** {@link #targetInFlightRequests}, or its schema default. */
  public int targetInFlightRequestsOrDefault() {
    return targetInFlightRequests == null
        ? Integer.parseInt(DEFAULT_TARGET_IN_FLIGHT_REQUESTS)
        : targetInFlightRequests;
  }

  /** {@link #scaleDownStabilizationSeconds}, or its schema default. */
  public int scaleDownStabilizationSecondsOrDefault() {
    return scaleDownStabilizationSeconds == null
        ? Integer.parseInt(DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS)
        : scaleDownStabilizationSeconds;
  }
}
