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
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.gpupool.api.crd.ItemBounds;
import java.util.List;

/** A model served by replicas spread over providers, each replica sharded when it must be. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value =
        "!has(self.verification) || !has(self.verification.mode)"
            + " || self.verification.mode != 'CrossCheck'"
            + " || (has(self.replicas.min) && self.replicas.min >= 2)",
    message =
        "verification.mode CrossCheck compares replicas on different providers: replicas.min"
            + " must be at least 2 (3 or more to tell which replica is wrong)",
    fieldPath = ".replicas.min",
    reason = "FieldValueInvalid")
public class InferenceJobSpec extends QueueableJobSpec {
  @Required
  @Size(min = 1, max = 512)
  @Pattern(ApiPatterns.NO_WHITESPACE)
  public String image;

  public List<String> command;
  public List<String> args;

  @Size(max = 128)
  @ValidationRule(
      value =
          "self.all(e, !(e.name in ['PIPELINE_PARALLEL_SIZE', 'TENSOR_PARALLEL_SIZE'])"
              + " && !e.name.startsWith('LWS_'))",
      message =
          "LWS_*, PIPELINE_PARALLEL_SIZE and TENSOR_PARALLEL_SIZE are set by the operator (the"
              + " serving group's rendezvous) and cannot be overridden",
      reason = "FieldValueForbidden")
  @JsonPropertyDescription(
      "Extra environment variables for every shard; the group's rendezvous variables (LWS_*,"
          + " PIPELINE_PARALLEL_SIZE, TENSOR_PARALLEL_SIZE) are the operator's.")
  // Names bounded so the rule above stays within the API server's CEL cost budget.
  @ItemBounds(field = "name", maxLength = 256)
  public List<EnvVar> env;

  @JsonPropertyDescription(
      "What the pods need besides what the operator decides: volumes and mounts, pull secrets,"
          + " service account, security context, envFrom, nodeSelector/tolerations/affinity (they"
          + " narrow the placement), /dev/shm size, init containers, sidecars, labels, annotations.")
  public PodTemplate template;

  @Min(1)
  @Max(65535)
  @Default("8000")
  @JsonPropertyDescription("Port the server listens on; the Service forwards to it.")
  public Integer port;

  @Required
  @JsonPropertyDescription("The served model; its memory decides sharding and GPU sharing.")
  public ModelSpec model;

  @JsonPropertyDescription(
      "Where the weights come from; an init container fetches them into a node-local cache that"
          + " later replicas on the node reuse, and placement prefers nodes that hold them.")
  public ModelWeightsSource weights;

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

  @Override
  public boolean suspendRequested() {
    return Boolean.TRUE.equals(suspend);
  }

  @Override
  public Budget budgetOrNull() {
    return budget;
  }

  @Min(1)
  @Max(64)
  @Default("1")
  @JsonPropertyDescription(
      "GPUs one replica counts against its GpuQueue's quota (a GPU share counts as one); a"
          + " replica that would need more is not placed. Only read in a queued namespace.")
  public Integer gpusPerReplica;

  @JsonPropertyDescription(
      "Canary cross-checks: greedy canaries sent to replicas on different providers, answers"
          + " compared; a replica disagreeing with the majority is disputed and replaced.")
  public InferenceVerification verification;
}
