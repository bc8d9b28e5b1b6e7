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
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.gpupool.api.crd.ItemBounds;
import java.util.List;

/** Who pays, which namespaces may charge them, and how much. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class BillingAccountSpec {
  @Required
  @Pattern(ApiPatterns.EVM_ADDRESS)
  @JsonPropertyDescription("The payer's address (0x + 40 hex digits); its escrow funds the jobs.")
  public String payer;

  @Size(max = 256)
  @ItemBounds(pattern = ApiPatterns.NAMESPACE, maxLength = 63)
  @JsonPropertyDescription("Namespaces whose jobs may charge this account.")
  public List<String> namespaces;

  @JsonPropertyDescription(
      "Namespaces whose labels match may charge this account too (in addition to namespaces).")
  public LabelSelector namespaceSelector;

  @Pattern(ApiPatterns.DECIMAL)
  @Size(max = 40)
  @JsonPropertyDescription(
      "Most one job may cost; a job without spec.budget.maxCost, or with a higher one, stops here.")
  public String maxCostPerJob;

  @Pattern(ApiPatterns.DECIMAL)
  @Size(max = 40)
  @JsonPropertyDescription(
      "Most all jobs together may cost per period; new jobs wait (Funded=False) once it is spent.")
  public String maxCostPerPeriod;

  @Min(1)
  @Max(366)
  @Default("30")
  @JsonPropertyDescription(
      "Length of a spending period in days, counted from the account's creation.")
  public Integer periodDays;
}
