package io.gpupool.operator.allocation;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.gpupool.api.v1alpha1.GpupoolApi;
import java.util.Map;

/** Reads what a pod takes from a node's GPUs, the way the kubelet counts it at admission. */
public final class PodGpus {
  private PodGpus() {}

  /** GPU slots the pod requests: {@code nvidia.com/gpu} plus {@code nvidia.com/gpu.shared}. */
  public static int slots(Pod pod) {
    int total = 0;
    if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return 0;
    }
    for (Container c : pod.getSpec().getContainers()) {
      if (c.getResources() == null) {
        continue;
      }
      Map<String, Quantity> limits = c.getResources().getLimits();
      Map<String, Quantity> requests = c.getResources().getRequests();
      total +=
          amount(limits, "nvidia.com/gpu", requests)
              + amount(limits, "nvidia.com/gpu.shared", requests);
    }
    return total;
  }

  private static int amount(
      Map<String, Quantity> limits, String resource, Map<String, Quantity> requests) {
    Quantity q =
        limits != null && limits.containsKey(resource)
            ? limits.get(resource)
            : requests == null ? null : requests.get(resource);
    return q == null ? 0 : Quantity.getAmountInBytes(q).intValue();
  }

  /** Pods that ended hold nothing. */
  public static boolean terminal(Pod pod) {
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  /** {@code Kind/namespace/name} of the gpupool job owning the pod, or null for a foreign pod. */
  public static String owningJob(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    if (labels == null || !labels.containsKey(GpupoolApi.JOB_NAME_LABEL)) {
      return null;
    }
    return holderKey(
        labels.getOrDefault(GpupoolApi.JOB_KIND_LABEL, "TrainingJob"),
        pod.getMetadata().getNamespace(),
        labels.get(GpupoolApi.JOB_NAME_LABEL));
  }

  /** The ledger key of a job. */
  public static String holderKey(String kind, String namespace, String name) {
    return kind + "/" + namespace + "/" + name;
  }
}
