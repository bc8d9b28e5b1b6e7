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
    return terms(pod, provider, node, ceiling).writeOn(pod);
  }

  /**
   * The terms of a pod the operator placed without recording any (an operator of an earlier
   * version), rebuilt from the operator's own view now: its node's provider (the Node's label, not
   * the pod's), that provider's price for the node's GPU at this moment, capped by the job's {@code
   * maxPricePerGpuHour}, and the GPUs the pod's containers request (immutable on a created pod).
   * Nothing is read from the pod's labels or annotations, which a tenant may rewrite. Empty when
   * the node is not known (it may not be read yet).
   */
  Optional<PlacedTerms> termsAtAdoption(Pod pod, PlacementPolicy placement) {
    String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    Optional<GpuNode> node = nodeName == null ? Optional.empty() : nodes.node(nodeName);
    if (node.isEmpty() || node.get().provider() == null || node.get().provider().isBlank()) {
      return Optional.empty();
    }
    String provider = node.get().provider();
    String ceiling = placement == null ? null : placement.maxPricePerGpuHour;
    return Optional.of(new PlacedTerms(nodeName, provider, terms(pod, provider, node, ceiling)));
  }

  private PlacementTerms terms(Pod pod, String provider, Optional<GpuNode> node, String ceiling) {
    // A node a hardware challenge measured slower than its claim is billed at that share.
    Optional<BigInteger> listed =
        provider == null || node.isEmpty()
            ? Optional.empty()
            : providers
                .weiPerGpuHour(provider, node.get().product())
                .map(wei -> speeds.price(node.get().name(), node.get().product(), wei));
    long milli = PodUsage.milliGpus(pod, node.map(GpuNode::replicasPerGpu).orElse(1));
    return PlacementTerms.at(listed, ceiling, milli);
  }
}
