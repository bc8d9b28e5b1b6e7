package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/**
 * Spot-checks of a TrainingJob's work: a sampled share of its checkpoint intervals is replayed on a
 * different provider, and the replay's parameters must lie within a relative distance of what the
 * training provider committed. The replay's GPU time is charged to the same payer.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class TrainingVerification {
  /** Schema default of {@link #sampleRate}. */
  public static final String DEFAULT_SAMPLE_RATE = "0.1";

  /** Schema default of {@link #tolerance}. */
  public static final String DEFAULT_TOLERANCE = "0.0001";

  @Default("None")
  @JsonPropertyDescription("None (default) or SpotCheck.")
  public TrainingVerificationMode mode;

  @Min(value = 0, inclusive = false)
  @Max(1)
  @Default(DEFAULT_SAMPLE_RATE)
  @JsonPropertyDescription(
      "Share of checkpoint intervals replayed by a verifier, above 0 and at most 1 (default"
          + " 0.1). The expected verification GPU time is about this share of the training's.")
  public Double sampleRate;

  @Min(value = 0, inclusive = false)
  @Max(1)
  @Default(DEFAULT_TOLERANCE)
  @JsonPropertyDescription(
      "Largest relative parameter distance |replayed - committed| / |committed| (L2 norms)"
          + " accepted as honest numerical noise, above 0 and at most 1 (default 0.0001).")
  public Double tolerance;

  /** True when spot-checks are asked for. */
  public boolean spotCheck() {
    return mode == TrainingVerificationMode.SpotCheck;
  }

  /** {@link #sampleRate}, or its schema default when the object was built without one. */
  public double sampleRateOrDefault() {
    return sampleRate == null ? Double.parseDouble(DEFAULT_SAMPLE_RATE) : sampleRate;
  }

  /** {@link #tolerance}, or its schema default when the object was built without one. */
  public double toleranceOrDefault() {
    return tolerance == null ? Double.parseDouble(DEFAULT_TOLERANCE) : tolerance;
  }
}
