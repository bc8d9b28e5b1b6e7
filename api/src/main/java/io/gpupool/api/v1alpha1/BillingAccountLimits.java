package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/** Caps an account's admin sets on what its jobs may cost. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class BillingAccountLimits {
  @Pattern(ApiPatterns.DECIMAL)
  @Size(max = 40)
  @JsonPropertyDescription(
      "Most one job charging this account may cost, a decimal token amount: a job whose"
          + " spec.budget.maxCost (or, without one, its cost for the next settlement interval)"
          + " exceeds it does not start, and a running job stops when its cost reaches it.")
  public String maxCostPerJob;

  @Pattern(ApiPatterns.DECIMAL)
  @Size(max = 40)
  @JsonPropertyDescription(
      "Most the account's jobs together may cost per period, a decimal token amount: a job that"
          + " would push the period's spend past it does not start, and running jobs stop when the"
          + " spend reaches it, until the next period or until it is raised.")
  public String maxCostPerPeriod;

  @Pattern(ApiPatterns.PERIOD)
  @Size(max = 5)
  @JsonPropertyDescription(
      "Length of the spending period: a whole number of minutes, hours or days (30m, 24h, 7d)."
          + " Default 24h.")
  public String period;
}
