package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** Who pays, and the most they will pay; usage is settled from the payer's on-chain escrow. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Budget {
  @Required
  @Pattern(ApiPatterns.EVM_ADDRESS)
  @JsonPropertyDescription("Payer's address (0x + 40 hex digits); its escrow funds the job.")
  public String payer;

  @Pattern(ApiPatterns.DECIMAL)
  @Size(max = 40)
  @JsonPropertyDescription("Most the job may cost in total, a decimal string; the job stops there.")
  public String maxCost;
}
