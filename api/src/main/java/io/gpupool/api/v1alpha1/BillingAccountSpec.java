package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.gpupool.api.crd.ItemBounds;
import java.util.List;

/** Who pays, and which namespaces may charge them. */
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

  @JsonPropertyDescription("Caps on what the account's jobs may cost.")
  public BillingAccountLimits limits;
}
