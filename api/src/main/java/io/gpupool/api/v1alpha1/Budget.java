package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/**
 * Who pays, and the most they will pay; usage is settled from the payer's on-chain escrow. The
 * payer is a BillingAccount the job's namespace is bound to: named here, or the namespace's only
 * account when none is named.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class Budget {
  @Pattern(ApiPatterns.OBJECT_NAME)
  @Size(max = 253)
  @JsonPropertyDescription(
      "BillingAccount that pays; the namespace must be bound to it. Default: the namespace's only"
          + " account.")
  public String account;

  @Pattern(ApiPatterns.EVM_ADDRESS)
  @JsonPropertyDescription(
      "Payer's address (0x + 40 hex digits), instead of an account name: the namespace must be"
          + " bound to an account paying from this address.")
  public String payer;

  @Pattern(ApiPatterns.DECIMAL)
  @Size(max = 40)
  @JsonPropertyDescription("Most the job may cost in total, a decimal string; the job stops there.")
  public String maxCost;
}
