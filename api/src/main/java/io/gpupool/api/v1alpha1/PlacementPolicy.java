package io.gpupool.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.gpupool.api.crd.ItemBounds;
import java.util.List;

/** Where a job may run: regions, price ceiling and the reliability it needs from providers. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class PlacementPolicy {
  @Size(max = 32)
  @ItemBounds(maxLength = 63)
  @JsonPropertyDescription("Allowed regions (topology.kubernetes.io/region). Empty means any.")
  public List<String> regions;

  @Pattern(ApiPatterns.PRICE)
  @Size(max = 25)
  @JsonPropertyDescription(
      "Highest price per GPU-hour to accept, a decimal string below 1000000 (e.g. \"2.50\").")
  public String maxPricePerGpuHour;

  @Min(0)
  @Max(1)
  @JsonPropertyDescription("Lowest provider reliability score to accept, 0 to 1.")
  public Double minReliability;
}
