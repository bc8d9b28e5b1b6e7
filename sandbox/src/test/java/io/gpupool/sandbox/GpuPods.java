package io.gpupool.sandbox;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;

/** Pods bound to a sandbox node, as the operator creates them: one container, GPUs as limits. */
public final class GpuPods {
  private GpuPods() {}

  /**
   * Pod {@code name} in {@code default} on {@code node}, asking for {@code gpus} (none when 0),
   * with {@code env} in its container, tolerating the GPU nodes' taint.
   */
  public static Pod pod(
      String name, String node, int gpus, Map<String, String> env, String restartPolicy) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("default")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .withRestartPolicy(restartPolicy)
            .addNewToleration()
            .withKey("nvidia.com/gpu")
            .withOperator("Exists")
            .withEffect("NoSchedule")
            .endToleration()
            .addNewContainer()
            .withName("main")
            .withImage("trainer:1")
            .withNewResources()
            .addToLimits(
                gpus > 0 ? Map.of("nvidia.com/gpu", new Quantity(String.valueOf(gpus))) : Map.of())
            .endResources()
            .endContainer()
            .endSpec();
    env.forEach(
        (k, v) ->
            b.editSpec()
                .editFirstContainer()
                .addNewEnv()
                .withName(k)
                .withValue(v)
                .endEnv()
                .endContainer()
                .endSpec());
    return b.build();
  }
}
