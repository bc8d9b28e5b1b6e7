package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.billing.metering.Metering;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.inventory.SpeedRatings;
import java.math.BigInteger;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Prices at placement: what a placement costs per hour at the providers' listed prices, and the
 * billing terms written on each pod before it is created (price and GPU share), which metering
 * bills however prices or labels change later.
 */
final class PlacementPricing {
  private final ProviderDirectory providers;
  private final NodeInventory nodes;
  private final SpeedRatings speeds;

  PlacementPricing(ProviderDirectory providers, NodeInventory nodes, SpeedRatings speeds) {
    this.providers = providers;
    this.nodes = nodes;
    this.speeds = speeds;
  }

  /**
   * Cost per hour of {@code milliGpus} at a provider's listed price for {@code product}, rounded
   * up; empty when the provider does not price it.
   */
  Optional<BigInteger> weiPerHour(String provider, String product, long milliGpus) {
    return providers
        .weiPerGpuHour(provider, product)
        .map(price -> Metering.costCeiling(milliGpus, price, Duration.ofHours(1)));
  }

  /**
   * {@code pods} about to be created for a job with their billing terms written on them ({@link
   * PlacementTerms}): the price its node's provider lists now for the node's GPU (scaled by the
   * node's {@link SpeedRatings speed rating} when a challenge measured it slower), capped by the
   * job's {@code maxPricePerGpuHour}, and the GPU share the pod holds on that node. Metering bills
   * them at these terms however the provider's prices or the node's labels change later.
   */
  List<Pod> withPlacementTerms(List<Pod> pods, PlacementPolicy placement) {
    String ceiling = placement == null ? null : placement.maxPricePerGpuHour;
    return pods.stream().map(p -> withPlacementTerms(p, ceiling)).toList();
  }

  private Pod withPlacementTerms(Pod pod, String ceiling) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    String provider = labels == null ? null : labels.get(GpupoolApi.PROVIDER_LABEL);
    Optional<GpuNode> node = nodes.node(pod.getSpec().getNodeName());
    // A node a hardware challenge measured slower than its claim is billed at that share.
    Optional<BigInteger> listed =
        provider == null || node.isEmpty()
            ? Optional.empty()
            : providers
                .weiPerGpuHour(provider, node.get().product())
                .map(wei -> speeds.price(node.get().name(), node.get().product(), wei));
    long milli = PodUsage.milliGpus(pod, node.map(GpuNode::replicasPerGpu).orElse(1));
    return PlacementTerms.at(listed, ceiling, milli).writeOn(pod);
  }
}
