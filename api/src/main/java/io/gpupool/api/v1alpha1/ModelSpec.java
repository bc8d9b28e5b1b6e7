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

/** Enough about the model to estimate memory per GPU and compute per pipeline stage. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class ModelSpec {
  @Required
  @Pattern(ApiPatterns.PARAMETER_COUNT)
  @Size(max = 24)
  @JsonPropertyDescription("Parameter count, e.g. 13B, 350M or 7000000000.")
  public String parameters;

  @Required
  @Min(1)
  @Max(1000)
  @JsonPropertyDescription("Transformer layers (blocks); pipeline stages get contiguous ranges.")
  public Integer layers;

  @Default("bf16")
  @JsonPropertyDescription("Precision of weights and activations.")
  public Precision precision;

  @Min(1)
  @Max(1 << 20)
  @JsonPropertyDescription("Hidden size; improves activation estimates. Derived when absent.")
  public Integer hiddenSize;

  @Min(1)
  @Max(1 << 24)
  @JsonPropertyDescription("Tokens per sample (sequence length).")
  public Integer sequenceLength;

  @Min(1)
  @Max(1 << 24)
  @JsonPropertyDescription("Global batch size in samples per optimiser step.")
  public Integer globalBatchSize;
}
