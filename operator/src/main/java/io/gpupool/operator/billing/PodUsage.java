package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.operator.allocation.PodGpus;
import io.gpupool.operator.inventory.GfdLabels;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * Reads a pod's billable facts from its status, the way metering needs them: when the worker
 * container started and ended, and how much of a GPU it held. Pure; no cluster access.
 */
public final class PodUsage {
  /**
   * Container whose running time is billed; without it, the first container with GPU limits (e.g.
   * an InferenceJob's {@code server}), else the first container status.
   */
  public static final String WORKER_CONTAINER = "worker";

  private PodUsage() {}

  /** When the worker container started running ({@code running} or {@code terminated}), or null. */
  public static Instant start(Pod pod) {
    ContainerState s = workerState(pod);
    if (s == null) {
      return null;
    }
    if (s.getRunning() != null) {
      return parse(s.getRunning().getStartedAt());
    }
    if (s.getTerminated() != null) {
      return parse(s.getTerminated().getStartedAt());
    }
    return null;
  }

  /**
   * When the worker container stopped holding its GPUs: {@code terminated.finishedAt}; for a pod
   * that is being or was deleted while running ({@code deletedAt} non-null), its deletion timestamp
   * or else {@code deletedAt}; null while it runs.
   */
  public static Instant end(Pod pod, Instant deletedAt) {
    ContainerState s = workerState(pod);
    if (s != null && s.getTerminated() != null) {
      Instant finished = parse(s.getTerminated().getFinishedAt());
      if (finished != null) {
        return finished;
      }
    }
    if (deletedAt != null) {
      Instant ts = parse(pod.getMetadata().getDeletionTimestamp());
      return ts != null && ts.isBefore(deletedAt) ? ts : deletedAt;
    }
    return null;
  }

  /** When the API server created the pod (its {@code creationTimestamp}), or null. */
  public static Instant created(Pod pod) {
    return pod.getMetadata() == null ? null : parse(pod.getMetadata().getCreationTimestamp());
  }

  /** True while the pod's phase is Running: the only phase in which it is billed. */
  public static boolean running(Pod pod) {
    return pod.getStatus() != null && "Running".equals(pod.getStatus().getPhase());
  }

  /** True once the pod can hold no GPU any more (phase Succeeded or Failed). */
  public static boolean terminal(Pod pod) {
    return PodGpus.terminal(pod);
  }

  /**
   * GPUs the pod holds in milli-GPU: a whole GPU is 1000; on a node that time-slices each GPU into
   * {@code replicas} shares, one share is {@code 1000 / replicas} (rounded down: never
   * over-charge).
   */
  public static long milliGpus(Pod pod, int replicas) {
    long slots = PodGpus.slots(pod);
    return slots * 1000L / Math.max(1, replicas);
  }

  /** The node's {@code nvidia.com/gpu.replicas} label (1 when missing or unreadable). */
  public static int replicas(Node node) {
    if (node == null || node.getMetadata().getLabels() == null) {
      return 1;
    }
    String v = node.getMetadata().getLabels().get(GfdLabels.REPLICAS);
    try {
      return v == null ? 1 : Math.max(1, Integer.parseInt(v.trim()));
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  /** The node's GPU product as providers price it ({@code -SHARED} suffix removed), or null. */
  public static String product(Node node) {
    if (node == null || node.getMetadata().getLabels() == null) {
      return null;
    }
    String p = node.getMetadata().getLabels().get(GfdLabels.PRODUCT);
    if (p != null && p.endsWith(GfdLabels.SHARED_SUFFIX)) {
      p = p.substring(0, p.length() - GfdLabels.SHARED_SUFFIX.length());
    }
    return p;
  }

  private static ContainerState workerState(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return null;
    }
    List<ContainerStatus> statuses = pod.getStatus().getContainerStatuses();
    String name = gpuContainer(pod);
    ContainerStatus chosen = null;
    for (ContainerStatus cs : statuses) {
      if (name.equals(cs.getName())) {
        chosen = cs;
        break;
      }
    }
    if (chosen == null && !statuses.isEmpty()) {
      chosen = statuses.get(0);
    }
    return chosen == null ? null : chosen.getState();
  }

  /** {@code worker} if the pod has it, else the first container with GPU limits, else "". */
  private static String gpuContainer(Pod pod) {
    if (pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return WORKER_CONTAINER;
    }
    String withGpus = null;
    for (Container c : pod.getSpec().getContainers()) {
      if (WORKER_CONTAINER.equals(c.getName())) {
        return WORKER_CONTAINER;
      }
      if (withGpus == null
          && c.getResources() != null
          && c.getResources().getLimits() != null
          && c.getResources().getLimits().keySet().stream()
              .anyMatch(r -> r.startsWith("nvidia.com/gpu"))) {
        withGpus = c.getName();
      }
    }
    return withGpus != null ? withGpus : "";
  }

  private static Instant parse(String ts) {
    if (ts == null || ts.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(ts);
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
