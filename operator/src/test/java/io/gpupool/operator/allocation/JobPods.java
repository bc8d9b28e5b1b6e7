package io.gpupool.operator.allocation;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.GpupoolApi;

/** Pods of the TrainingJob team/llm bound to a node, and a foreign one named "other". */
final class JobPods {
  static final String JOB = "TrainingJob/team/llm";

  private JobPods() {}

  static Pod pod(String name, String node, int gpus, String phase) {
    return pod(name, node, gpus, phase, false);
  }

  /** {@code deleted}: the pod has a deletionTimestamp (it is stopping). */
  static Pod pod(String name, String node, int gpus, String phase, boolean deleted) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("team")
            .withDeletionTimestamp(deleted ? "2026-12-07T12:00:00Z" : null)
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .addNewContainer()
            .withName("main")
            .withNewResources()
            .addToLimits("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))
            .endResources()
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase(phase)
            .endStatus();
    if (!"other".equals(name)) {
      b.editMetadata()
          .addToLabels(GpupoolApi.JOB_NAME_LABEL, "llm")
          .addToLabels(GpupoolApi.JOB_KIND_LABEL, "TrainingJob")
          .endMetadata();
    }
    return b.build();
  }
}
