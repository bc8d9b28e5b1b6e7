package io.gpupool.operator.it;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.HashMap;
import java.util.Map;

/** GPU nodes labelled as GFD and the device plugin would label them. */
final class TestNodes {
  private TestNodes() {}

  static Node gpuNode(
      String name, String provider, String product, int gpus, int memoryMiB, String region) {
    Map<String, String> labels = new HashMap<>();
    labels.put("nvidia.com/gpu.present", "true");
    labels.put("nvidia.com/gpu.product", product);
    labels.put("nvidia.com/gpu.count", Integer.toString(gpus));
    labels.put("nvidia.com/gpu.memory", Integer.toString(memoryMiB));
    labels.put("nvidia.com/gpu.replicas", "1");
    labels.put("topology.kubernetes.io/region", region);
    labels.put("topology.kubernetes.io/zone", region + "-a");
    labels.put("kubernetes.io/hostname", name);
    labels.put("gpupool.io/provider", provider);
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels)
        .endMetadata()
        .withNewStatus()
        .withAllocatable(
            Map.of(
                "nvidia.com/gpu",
                new Quantity(Integer.toString(gpus)),
                "cpu",
                new Quantity("32"),
                "memory",
                new Quantity("128Gi")))
        .withCapacity(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(gpus))))
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .endStatus()
        .build();
  }
}
