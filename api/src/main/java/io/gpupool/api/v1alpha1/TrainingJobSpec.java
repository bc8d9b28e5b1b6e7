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

/** A distributed training run, torchrun-compatible, placed as one gang over the pool. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
@ValidationRule(
    value =
        "!has(self.parallelism.strategy) || self.parallelism.strategy != 'PipelineParallel'"
            + " || self.parallelism.workers <= self.model.layers",
    message = "PipelineParallel needs at least one layer per worker (workers <= model.layers)",
    fieldPath = ".parallelism.workers",
    reason = "FieldValueInvalid")
@ValidationRule(
    value =
        "!has(self.verification) || !has(self.verification.mode)"
            + " || self.verification.mode != 'SpotCheck' || has(self.checkpoint)",
    message = "verification.mode SpotCheck replays checkpoints: set spec.checkpoint",
    fieldPath = ".verification.mode",
    reason = "FieldValueRequired")
@ValidationRule(
    value =
        "!has(self.verification) || !has(self.verification.mode)"
            + " || self.verification.mode != 'SpotCheck'"
            + " || (has(self.command) && self.command.exists(c, c.endsWith('.py')))"
            + " || (has(self.args) && self.args.exists(a, a.endsWith('.py')))",
    message =
        "verification.mode SpotCheck replays the job's Python script (a *.py in command or"
            + " args, run with --verify): this job runs no Python script",
    fieldPath = ".verification.mode",
    reason = "FieldValueInvalid")
public class TrainingJobSpec extends QueueableJobSpec {
  /** Most items of {@link #command} and of {@link #args}. */
  public static final int MAX_COMMAND_ITEMS = 256;

  /** Longest item of {@link #command} and of {@link #args}. */
  public static final int MAX_COMMAND_ITEM_LENGTH = 4096;

  @Required
  @Size(min = 1, max = 512)
  @Pattern(ApiPatterns.NO_WHITESPACE)
  @JsonPropertyDescription("Container image of every worker.")
  public String image;

  // Bounded so that the SpotCheck rule's scan of them stays within the API server's CEL budget.
  @Size(max = MAX_COMMAND_ITEMS)
  @ItemBounds(maxLength = MAX_COMMAND_ITEM_LENGTH)
  @JsonPropertyDescription("Entrypoint override, as in a container spec.")
  public List<String> command;

  @Size(max = MAX_COMMAND_ITEMS)
  @ItemBounds(maxLength = MAX_COMMAND_ITEM_LENGTH)
  @JsonPropertyDescription("Arguments, as in a container spec.")
  public List<String> args;

  @Size(max = 128)
  @ValidationRule(
      value =
          "self.all(e, !(e.name in ['MASTER_ADDR', 'MASTER_PORT', 'WORLD_SIZE', 'RANK'])"
              + " && !e.name.startsWith('PET_'))",
      message =
          "MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and PET_* are set by the operator"
              + " (rendezvous) and cannot be overridden",
      reason = "FieldValueForbidden")
  @JsonPropertyDescription(
      "Extra environment variables for every worker; the rendezvous variables (MASTER_ADDR,"
          + " MASTER_PORT, WORLD_SIZE, RANK, PET_*) are the operator's.")
  // Names bounded so the rule above stays within the API server's CEL cost budget.
  @ItemBounds(field = "name", maxLength = 256)
  public List<EnvVar> env;

  @JsonPropertyDescription(
      "What the pods need besides what the operator decides: volumes and mounts, pull secrets,"
          + " service account, security context, envFrom, nodeSelector/tolerations/affinity (they"
          + " narrow the placement), /dev/shm size, init containers, sidecars, labels, annotations.")
  public PodTemplate template;

  @Required public Parallelism parallelism;

  @Required
  @JsonPropertyDescription("The model, for memory and compute estimates that size the split.")
  public ModelSpec model;

  @JsonPropertyDescription("What each worker needs besides GPUs.")
  public GpuRequirements resources;

  @JsonPropertyDescription("Regions, price ceiling and reliability floor.")
  public PlacementPolicy placement;

  @JsonPropertyDescription("Who pays and the cost ceiling.")
  public Budget budget;

  @JsonPropertyDescription("Where checkpoints go; a restarted gang is told to resume from here.")
  public Checkpoint checkpoint;

  @Default("OnFailure")
  @JsonPropertyDescription("Always, OnFailure, Never or ExitCode, as in PyTorchJob.")
  public RestartPolicy restartPolicy;

  @Min(0)
  @Max(100)
  @Default(DEFAULT_BACKOFF_LIMIT)
  @JsonPropertyDescription("Gang restarts allowed before the job fails.")
  public Integer backoffLimit;

  /** The schema's default for {@link #backoffLimit}, the one place it is written. */
  public static final String DEFAULT_BACKOFF_LIMIT = "3";

  /** {@link #backoffLimit}, or its schema default when the object was built without one. */
  public int backoffLimitOrDefault() {
    return backoffLimit == null ? Integer.parseInt(DEFAULT_BACKOFF_LIMIT) : backoffLimit;
  }

  @Min(1)
  @Max(ApiPatterns.ACTIVE_DEADLINE_MAX_SECONDS)
  @JsonPropertyDescription(
      "Seconds the job may run after it first starts before it is failed (at most 366 days).")
  public Long activeDeadlineSeconds;

  @Default("false")
  @JsonPropertyDescription("True removes the pods and stops usage; false again re-plans.")
  public Boolean suspend;

  @Override
  public boolean suspendRequested() {
    return Boolean.TRUE.equals(suspend);
  }

  @Override
  public Budget budgetOrNull() {
    return budget;
  }

  @JsonPropertyDescription("Notice the job gets before it is evicted for another job.")
  public JobPreemption preemption;

  @JsonPropertyDescription(
      "Spot-checks of the providers' work: sampled checkpoint intervals replayed elsewhere.")
  public TrainingVerification verification;
}
