package io.gpupool.sandbox.dcgm;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A running pod holding device-plugin GPU slots on a node: what dcgm-exporter's pod mapping (the
 * kubelet's pod-resources API) would attribute a GPU to.
 *
 * @param container the container that requested the GPUs
 * @param slots {@code nvidia.com/gpu} (or {@code nvidia.com/gpu.shared}) it holds
 */
record GpuClaim(
    String uid,
    String namespace,
    String pod,
    String container,
    String node,
    int slots,
    Instant startedAt) {

  private static final List<String> RESOURCES = List.of("nvidia.com/gpu", "nvidia.com/gpu.shared");

  /** The claim of a Running pod bound to a node that asks for GPUs; empty otherwise. */
  static Optional<GpuClaim> of(Pod pod) {
    if (pod.getSpec() == null
        || pod.getSpec().getNodeName() == null
        || pod.getStatus() == null
        || !"Running".equals(pod.getStatus().getPhase())) {
      return Optional.empty();
    }
    String container = null;
    int slots = 0;
    for (Container c : pod.getSpec().getContainers()) {
      int n = requested(c);
      if (n > 0 && container == null) {
        container = c.getName();
      }
      slots += n;
    }
    if (slots == 0) {
      return Optional.empty();
    }
    String started = pod.getStatus().getStartTime();
    return Optional.of(
        new GpuClaim(
            pod.getMetadata().getUid(),
            pod.getMetadata().getNamespace(),
            pod.getMetadata().getName(),
            container,
            pod.getSpec().getNodeName(),
            slots,
            started == null ? Instant.EPOCH : Instant.parse(started)));
  }

  /** Limits, else requests, as the kubelet reads extended resources. */
  private static int requested(Container c) {
    if (c.getResources() == null) {
      return 0;
    }
    int total = 0;
    for (String resource : RESOURCES) {
      Quantity q = pick(c.getResources().getLimits(), resource);
      if (q == null) {
        q = pick(c.getResources().getRequests(), resource);
      }
      if (q != null) {
        total += q.getNumericalAmount().intValue();
      }
    }
    return total;
  }

  private static Quantity pick(Map<String, Quantity> map, String key) {
    return map == null ? null : map.get(key);
  }
}
