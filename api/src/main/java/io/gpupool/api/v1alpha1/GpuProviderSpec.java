package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** A community contributor: who gets paid, and what it asks per GPU-hour. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value =
        "!has(self.prices) || self.prices.all(p, self.prices.exists_one(q, q.gpuProduct == p.gpuProduct))",
    message = "each gpuProduct may be priced once",
    fieldPath = ".prices",
    reason = "FieldValueDuplicate")
public class GpuProviderSpec {
  @Size(max = 128)
  public String displayName;

  @Required
  @Pattern(ApiPatterns.EVM_ADDRESS)
  @JsonPropertyDescription("Where earnings are paid (0x + 40 hex digits).")
  public String payoutAddress;

  @JsonPropertyDescription("Home region; nodes carry their own topology labels.")
  public String region;

  @Required
  @Size(min = 1, max = 64)
  @JsonPropertyDescription("Price per GPU-hour for each GPU product this provider contributes.")
  public List<GpuPrice> prices;
}
