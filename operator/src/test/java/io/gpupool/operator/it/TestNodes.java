package io.gpupool.operator.it;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.HashMap;
import java.util.Map;

/** GPU nodes labelled as GFD and the device plugin would label them. */
public final class TestNodes {
  private TestNodes() {}

  static io.gpupool.api.v1alpha1.GpuProvider provider(String name, String... productPrice) {
    var provider = new io.gpupool.api.v1alpha1.GpuProvider();
    provider.setMetadata(
        new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).build());
    var spec = new io.gpupool.api.v1alpha1.GpuProviderSpec();
    spec.payoutAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    spec.prices = new java.util.ArrayList<>();
    for (int i = 0; i < productPrice.length; i += 2) {
      var price = new io.gpupool.api.v1alpha1.GpuPrice();
      price.gpuProduct = productPrice[i];
      price.pricePerGpuHour = productPrice[i + 1];
      spec.prices.add(price);
    }
    provider.setSpec(spec);
    return provider;
  }

  /**
   * Adds the GPU node {@code name} of {@code provider} to the cluster, first creating the provider
   * (pricing {@code product} at {@code price}) unless it exists.
   */
  public static void join(
      io.fabric8.kubernetes.client.KubernetesClient client,
      String name,
      String provider,
      String product,
      String price,
      int memoryMiB,
      String region) {
    if (client.resources(io.gpupool.api.v1alpha1.GpuProvider.class).withName(provider).get()
        == null) {
      client.resource(provider(provider, product, price)).create();
    }
    client.resource(gpuNode(name, provider, product, 1, memoryMiB, region)).create();
  }

  public static Node gpuNode(
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
        .withLastTransitionTime("2026-01-01T00:00:00Z")
        .endCondition()
        .endStatus()
        .build();
  }
}
