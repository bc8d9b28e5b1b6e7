package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** A provider's asking price for one GPU-hour of one GPU product. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class GpuPrice {
  @Required
  @Pattern(ApiPatterns.GPU_PRODUCT)
  public String gpuProduct;

  @Required
  @Pattern(ApiPatterns.DECIMAL)
  public String pricePerGpuHour;
}
