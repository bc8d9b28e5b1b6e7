package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The skeleton of the operator's one-off GPU pods (a node's challenge, a spot-check's verifier and
 * referee): bound to the node the operator chose, as a gang's ranks are; run once; no
 * service-account token; tolerating the GPU taint; one container holding its GPU slots and leaving
 * its answer in the termination message. Pure.
 */
public final class OneShotPods {
  /** The label every pod the operator creates carries. */
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";

  private static final String GPU = "nvidia.com/gpu";

  private OneShotPods() {}

  /**
   * A pod named {@code name} with {@code labels} (and managed-by), bound to {@code node}, whose one
   * {@code container} (name, image, command, args, env as the caller built it) holds {@code gpus}
   * GPU slots.
   */
  public static Pod bound(
      String namespace,
      String name,
      Map<String, String> labels,
      String node,
      int gpus,
      Container container) {
    Map<String, String> all = new LinkedHashMap<>(labels);
    all.put(MANAGED_BY, "gpupool");
    Map<String, Quantity> slots = Map.of(GPU, new Quantity(Integer.toString(gpus)));
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(namespace)
        .withLabels(all)
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .withRestartPolicy("Never")
        .withAutomountServiceAccountToken(false)
        .addNewToleration()
        .withKey(GPU)
        .withOperator("Exists")
        .withEffect("NoSchedule")
        .endToleration()
        .addToContainers(
            new ContainerBuilder(container)
                .withTerminationMessagePolicy("File")
                .withNewResources()
                .withLimits(slots)
                .withRequests(slots)
                .endResources()
                .build())
        .endSpec()
        .build();
  }
}
