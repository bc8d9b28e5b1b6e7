package io.gpupool.operator.validation;

import io.gpupool.api.v1alpha1.ApiPatterns;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ParallelismStrategy;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.api.v1alpha1.TrainingVerification;
import java.util.List;

/** What a TrainingJob spec must satisfy before the operator plans it. */
public final class TrainingJobValidator {
  private TrainingJobValidator() {}

  /** The job's name and spec. */
  public static SpecProblems validate(TrainingJob job) {
    SpecProblems p = validate(job.getSpec());
    p.checkJobName(job.getMetadata().getName());
    return p;
  }

  public static SpecProblems validate(TrainingJobSpec spec) {
    SpecProblems p = new SpecProblems();
    if (spec == null) {
      p.add("spec", "Required value");
      return p;
    }
    p.requireText("spec.image", spec.image);
    Parallelism par = spec.parallelism;
    if (par == null) {
      p.add("spec.parallelism", "Required value");
    } else {
      if (par.workers == null) {
        p.add("spec.parallelism.workers", "Required value");
      }
      p.checkRange("spec.parallelism.workers", par.workers, 1, 1024);
      p.checkRange("spec.parallelism.gpusPerWorker", par.gpusPerWorker, 1, 8);
      p.checkRange("spec.parallelism.minWorkers", par.minWorkers, 1, 1024);
      if (par.minWorkers != null && par.workers != null && par.minWorkers > par.workers) {
        p.add(
            "spec.parallelism.minWorkers",
            "Invalid value: "
                + par.minWorkers
                + ": minWorkers must not exceed workers ("
                + par.workers
                + ")");
      }
      if (par.strategy == ParallelismStrategy.PipelineParallel
          && spec.model != null
          && spec.model.layers != null
          && par.workers != null
          && par.workers > spec.model.layers) {
        p.add(
            "spec.parallelism.workers",
            "Invalid value: "
                + par.workers
                + ": PipelineParallel needs at least one layer per worker ("
                + spec.model.layers
                + " layers)");
      }
    }
    if (spec.model == null) {
      p.add("spec.model", "Required value: the planner sizes the split from the model");
    }
    p.checkModel("spec.model", spec.model);
    p.checkResources("spec.resources", spec.resources);
    p.checkPlacement("spec.placement", spec.placement);
    p.checkBudget("spec.budget", spec.budget);
    PodTemplateRules.checkEnv(
        p,
        "spec.env",
        spec.env,
        PodTemplateRules.TRAINING_ENV,
        PodTemplateRules.TRAINING_ENV_PREFIXES);
    PodTemplateRules.check(p, "spec.template", spec.template);
    if (spec.checkpoint != null) {
      p.requireText("spec.checkpoint.uri", spec.checkpoint.uri);
    }
    checkVerification(p, spec);
    if (spec.backoffLimit != null && spec.backoffLimit < 0) {
      p.add("spec.backoffLimit", "Invalid value: " + spec.backoffLimit + ": must be non-negative");
    }
    if (spec.activeDeadlineSeconds != null
        && (spec.activeDeadlineSeconds < 1
            || spec.activeDeadlineSeconds > ApiPatterns.ACTIVE_DEADLINE_MAX_SECONDS)) {
      p.add(
          "spec.activeDeadlineSeconds",
          "Invalid value: "
              + spec.activeDeadlineSeconds
              + ": must be between 1 and "
              + ApiPatterns.ACTIVE_DEADLINE_MAX_SECONDS);
    }
    return p;
  }

  private static void checkVerification(SpecProblems p, TrainingJobSpec spec) {
    TrainingVerification v = spec.verification;
    if (v == null) {
      return;
    }
    checkOpenUnitInterval(p, "spec.verification.sampleRate", v.sampleRate);
    checkOpenUnitInterval(p, "spec.verification.tolerance", v.tolerance);
    if (v.spotCheck() && spec.checkpoint == null) {
      p.add(
          "spec.verification.mode",
          "Required value: SpotCheck replays checkpoints: set spec.checkpoint");
    }
    if (v.spotCheck() && !namesPythonScript(spec.command) && !namesPythonScript(spec.args)) {
      p.add(
          "spec.verification.mode",
          "Invalid value: \"SpotCheck\": a verifier replays the job's Python script (a *.py in"
              + " command or args, run with --verify) and this job runs no Python script"
              + " (docs/workloads.md, \"Commitments\")");
    }
  }

  /** The test VerifierPods.script applies to find what a verifier runs. */
  private static boolean namesPythonScript(List<String> line) {
    return line != null && line.stream().anyMatch(item -> item != null && item.endsWith(".py"));
  }

  private static void checkOpenUnitInterval(SpecProblems p, String field, Double value) {
    if (value != null && !(value > 0 && value <= 1)) {
      p.add(field, "Invalid value: " + value + ": must be above 0 and at most 1");
    }
  }
}
