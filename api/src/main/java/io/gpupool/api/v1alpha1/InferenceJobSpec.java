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
import io.fabric8.kubernetes.api.model.EnvVar;
import java.util.List;

/** A model served by replicas spread over providers, each replica sharded when it must be. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public class InferenceJobSpec {
  @Required
  @Size(min = 1, max = 512)
  @Pattern(ApiPatterns.NO_WHITESPACE)
  public String image;

  public List<String> command;
  public List<String> args;
  public List<EnvVar> env;

  @Min(1)
  @Max(65535)
  @Default("8000")
  @JsonPropertyDescription("Port the server listens on; the Service forwards to it.")
  public Integer port;

  @Required
  @JsonPropertyDescription("The served model; its memory decides sharding and GPU sharing.")
  public ModelSpec model;

  @Required public ReplicaRange replicas;

  public Autoscaling autoscaling;

  @Default("Auto")
  public Sharding sharding;

  @Default("true")
  @JsonPropertyDescription("Small replicas may share a GPU on nodes with time-slicing or MPS.")
  public Boolean allowGpuSharing;

  public GpuRequirements resources;
  public PlacementPolicy placement;
  public Budget budget;

  @Default("false")
  public Boolean suspend;
}
