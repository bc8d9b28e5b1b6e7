package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.gpupool.api.crd.MapList;
import java.util.List;

/** A community contributor: who gets paid, and what it asks per GPU-hour. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
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
  @MapList("gpuProduct")
  @JsonPropertyDescription(
      "Price per GPU-hour for each GPU product this provider contributes, one entry per product"
          + " (a list map keyed by gpuProduct).")
  public List<GpuPrice> prices;
}
