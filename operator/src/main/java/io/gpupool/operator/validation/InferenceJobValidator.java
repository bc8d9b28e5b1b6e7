package io.gpupool.operator.validation;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;

/** What an InferenceJob spec must satisfy before the operator plans it. */
public final class InferenceJobValidator {
  private InferenceJobValidator() {}

  /** The job's name and spec. */
  public static SpecProblems validate(InferenceJob job) {
    SpecProblems p = validate(job.getSpec());
    p.checkJobName(job.getMetadata().getName());
    return p;
  }

  public static SpecProblems validate(InferenceJobSpec spec) {
    SpecProblems p = new SpecProblems();
    if (spec == null) {
      p.add("spec", "Required value");
      return p;
    }
    p.requireText("spec.image", spec.image);
    if (spec.model == null) {
      p.add("spec.model", "Required value: replicas are sized from the model");
    }
    p.checkModel("spec.model", spec.model);
    if (spec.replicas == null) {
      p.add("spec.replicas", "Required value");
    } else {
      if (spec.replicas.max == null) {
        p.add("spec.replicas.max", "Required value");
      }
      p.checkRange("spec.replicas.min", spec.replicas.min, 0, 256);
      p.checkRange("spec.replicas.max", spec.replicas.max, 1, 256);
      if (spec.replicas.min != null
          && spec.replicas.max != null
          && spec.replicas.min > spec.replicas.max) {
        p.add(
            "spec.replicas.min",
            "Invalid value: "
                + spec.replicas.min
                + ": replicas.min must not exceed replicas.max ("
                + spec.replicas.max
                + ")");
      }
    }
    p.checkRange("spec.port", spec.port, 1, 65535);
    if (spec.autoscaling != null) {
      p.checkHttpPath("spec.autoscaling.metricsPath", spec.autoscaling.metricsPath);
    }
    p.checkResources("spec.resources", spec.resources);
    p.checkPlacement("spec.placement", spec.placement);
    p.checkBudget("spec.budget", spec.budget);
    PodTemplateRules.checkEnv(
        p,
        "spec.env",
        spec.env,
        PodTemplateRules.INFERENCE_ENV,
        PodTemplateRules.INFERENCE_ENV_PREFIXES);
    PodTemplateRules.check(p, "spec.template", spec.template);
    WeightsRules.check(p, spec.weights, spec.template);
    VerificationRules.check(p, spec);
    return p;
  }
}
