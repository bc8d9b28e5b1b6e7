package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/** A provider's asking price for one GPU-hour of one GPU product. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class GpuPrice {
  @Required
  @Pattern(ApiPatterns.GPU_PRODUCT)
  @Size(min = 1, max = 128)
  @JsonPropertyDescription("GFD product name (nvidia.com/gpu.product); each is priced once.")
  public String gpuProduct;

  @Required
  @Pattern(ApiPatterns.PRICE)
  @Size(max = 25)
  @JsonPropertyDescription("Price of one GPU-hour, a decimal string below 1000000.")
  public String pricePerGpuHour;
}
