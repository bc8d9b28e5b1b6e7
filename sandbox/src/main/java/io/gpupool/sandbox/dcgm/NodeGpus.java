package io.gpupool.sandbox.dcgm;

import io.fabric8.kubernetes.api.model.Node;
import io.gpupool.sandbox.kubelet.KubeletSimulator;
import java.util.Map;
import java.util.Optional;

/**
 * The physical GPUs of one simulated node, read from the labels GFD put on it.
 *
 * @param replicas device-plugin slots per GPU (time-slicing or MPS), 1 when not shared
 * @param faulted the node carries the sandbox fault label {@code NotReady}: its GPUs report XID 79
 *     ("GPU has fallen off the bus") and do no work
 */
record NodeGpus(
    String node,
    String product,
    int count,
    int memoryMiB,
    int replicas,
    String driverVersion,
    boolean faulted) {

  /** The node's GPUs, or empty when it is not a GPU node GFD labelled. */
  static Optional<NodeGpus> of(Node node) {
    Map<String, String> labels = node.getMetadata().getLabels();
    if (labels == null || !"true".equals(labels.get("nvidia.com/gpu.present"))) {
      return Optional.empty();
    }
    String product = labels.get("nvidia.com/gpu.product");
    Integer count = number(labels.get("nvidia.com/gpu.count"));
    Integer memory = number(labels.get("nvidia.com/gpu.memory"));
    if (product == null || count == null || count < 1 || memory == null) {
      return Optional.empty();
    }
    Integer replicas = number(labels.get("nvidia.com/gpu.replicas"));
    return Optional.of(
        new NodeGpus(
            node.getMetadata().getName(),
            product,
            count,
            memory,
            replicas == null || replicas < 1 ? 1 : replicas,
            labels.getOrDefault("nvidia.com/cuda.driver-version.full", ""),
            "NotReady".equals(labels.get(KubeletSimulator.FAULT_LABEL))));
  }

  /** Device-plugin slots on the node: what pods' {@code nvidia.com/gpu} requests draw from. */
  int slots() {
    return count * replicas;
  }

  private static Integer number(String value) {
    if (value == null) {
      return null;
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
