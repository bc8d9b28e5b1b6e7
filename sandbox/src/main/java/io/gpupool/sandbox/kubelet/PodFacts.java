package io.gpupool.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.sandbox.pool.NodeFactory;

/** What the simulated kubelets read from pod and node objects. */
final class PodFacts {
  private PodFacts() {}

  static boolean isReady(Node node) {
    if (node.getStatus() == null || node.getStatus().getConditions() == null) {
      return false;
    }
    return node.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /** The port of a tcpSocket readiness probe, if the container has one. */
  static Integer tcpReadinessPort(Pod pod) {
    var probe = pod.getSpec().getContainers().get(0).getReadinessProbe();
    if (probe == null || probe.getTcpSocket() == null || probe.getTcpSocket().getPort() == null) {
      return null;
    }
    var port = probe.getTcpSocket().getPort();
    return port.getIntVal() != null ? port.getIntVal() : null;
  }

  /** {@code nvidia.com/gpu} of all containers: limits, or requests when no limit is set. */
  static int requestedGpus(Pod pod) {
    int total = 0;
    for (var c : pod.getSpec().getContainers()) {
      if (c.getResources() == null) {
        continue;
      }
      Quantity q = null;
      if (c.getResources().getLimits() != null) {
        q = c.getResources().getLimits().get(NodeFactory.GPU_RESOURCE);
      }
      if (q == null && c.getResources().getRequests() != null) {
        q = c.getResources().getRequests().get(NodeFactory.GPU_RESOURCE);
      }
      if (q != null) {
        total += q.getNumericalAmount().intValue();
      }
    }
    return total;
  }

  static int allocatableGpus(Node node) {
    if (node.getStatus() == null || node.getStatus().getAllocatable() == null) {
      return 0;
    }
    Quantity q = node.getStatus().getAllocatable().get(NodeFactory.GPU_RESOURCE);
    return q == null ? 0 : q.getNumericalAmount().intValue();
  }

  static Long envLong(Pod pod, String name) {
    if (pod.getSpec().getContainers().isEmpty()) {
      return null;
    }
    for (EnvVar e : pod.getSpec().getContainers().get(0).getEnv()) {
      if (name.equals(e.getName()) && e.getValue() != null) {
        try {
          return Long.parseLong(e.getValue().trim());
        } catch (NumberFormatException ex) {
          return null;
        }
      }
    }
    return null;
  }

  static String internalIp(Node node) {
    return node.getStatus().getAddresses().stream()
        .filter(a -> "InternalIP".equals(a.getType()))
        .map(a -> a.getAddress())
        .findFirst()
        .orElse(null);
  }
}
