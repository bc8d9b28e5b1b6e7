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

/** What each worker (or replica shard) needs from a node besides its GPUs' count. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class GpuRequirements {
  @Min(1)
  @Max(1048576)
  @JsonPropertyDescription(
      "Minimum memory per GPU in MiB, as GFD reports it (nvidia.com/gpu.memory).")
  public Integer minGpuMemoryMiB;

  @Size(max = 32)
  @ItemBounds(pattern = ApiPatterns.GPU_PRODUCT, maxLength = 128)
  @JsonPropertyDescription(
      "Allowed GPU products as GFD names them (nvidia.com/gpu.product), e.g. NVIDIA-GeForce-RTX-4090."
          + " Empty means any.")
  public List<String> gpuModels;

  @Pattern(ApiPatterns.QUANTITY)
  @JsonPropertyDescription("CPU per worker, a Kubernetes quantity (e.g. 8 or 8000m).")
  public String cpu;

  @Pattern(ApiPatterns.QUANTITY)
  @JsonPropertyDescription("Memory per worker, a Kubernetes quantity (e.g. 32Gi).")
  public String memory;
}
