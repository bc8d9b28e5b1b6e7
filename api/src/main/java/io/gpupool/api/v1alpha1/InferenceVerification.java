package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Canary cross-checks of an InferenceJob's replicas (docs/inference.md, "Verification"). Bounded:
 * at most {@value #MAX_CANARIES_PER_CHECK} canaries per replica every {@value
 * #MIN_INTERVAL_SECONDS} seconds or more, so canary traffic stays a small, known share of a
 * replica's capacity.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value = "!has(self.tolerance) || (has(self.compare) && self.compare == 'Logprob')",
    message = "tolerance applies to compare: Logprob only",
    fieldPath = ".tolerance",
    reason = "FieldValueForbidden")
public class InferenceVerification {
  public static final int MIN_INTERVAL_SECONDS = 10;
  public static final int MAX_CANARIES_PER_CHECK = 8;
  public static final String DEFAULT_INTERVAL_SECONDS = "60";
  public static final String DEFAULT_CANARIES_PER_CHECK = "2";
  public static final String DEFAULT_MAX_TOKENS = "16";
  public static final String DEFAULT_TOLERANCE = "0.05";

  @Default("None")
  @JsonPropertyDescription(
      "None, or CrossCheck: canary requests compared across replicas on different providers.")
  public InferenceVerificationMode mode;

  @Min(MIN_INTERVAL_SECONDS)
  @Max(86400)
  @Default(DEFAULT_INTERVAL_SECONDS)
  @JsonPropertyDescription(
      "Seconds between two cross-checks of the job (the per-job canary rate limit).")
  public Integer canaryIntervalSeconds;

  @Min(1)
  @Max(MAX_CANARIES_PER_CHECK)
  @Default(DEFAULT_CANARIES_PER_CHECK)
  @JsonPropertyDescription("Canary prompts sent to each ready replica per check.")
  public Integer canariesPerCheck;

  @Min(1)
  @Max(64)
  @Default(DEFAULT_MAX_TOKENS)
  @JsonPropertyDescription("Tokens each canary asks for (greedy decoding).")
  public Integer maxTokens;

  @Default("ExactTokens")
  @JsonPropertyDescription("ExactTokens, or Logprob (needs servers that report logprobs).")
  public CanaryComparison compare;

  @Min(0)
  @Max(10)
  @JsonPropertyDescription(
      "compare: Logprob only: the largest mean absolute difference of per-token log-probabilities"
          + " (nats) still counted as agreement; default "
          + DEFAULT_TOLERANCE
          + ".")
  public Double tolerance;

  /** True when canaries are to be sent. */
  public boolean crossChecks() {
    return mode == InferenceVerificationMode.CrossCheck;
  }

  public int canaryIntervalSecondsOrDefault() {
    return canaryIntervalSeconds == null
        ? Integer.parseInt(DEFAULT_INTERVAL_SECONDS)
        : canaryIntervalSeconds;
  }

  public int canariesPerCheckOrDefault() {
    return canariesPerCheck == null
        ? Integer.parseInt(DEFAULT_CANARIES_PER_CHECK)
        : canariesPerCheck;
  }

  public int maxTokensOrDefault() {
    return maxTokens == null ? Integer.parseInt(DEFAULT_MAX_TOKENS) : maxTokens;
  }

  public CanaryComparison compareOrDefault() {
    return compare == null ? CanaryComparison.ExactTokens : compare;
  }

  public double toleranceOrDefault() {
    return tolerance == null ? Double.parseDouble(DEFAULT_TOLERANCE) : tolerance;
  }
}
