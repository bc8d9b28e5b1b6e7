package io.gpupool.operator.inventory;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.gpupool.api.v1alpha1.GpupoolApi;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Reads a Node the way GPU Feature Discovery and the NVIDIA device plugin describe it. Pure: no
 * cluster access, so every label combination is unit-tested.
 *
 * <p>A GPU node whose labels are missing or wrong is left out with a reason rather than guessed at:
 * a mis-sized GPU in the pool would make the scheduler place work that cannot run.
 */
public final class NodeReader {
  private static final String GPU_TAINT = GfdLabels.GPU_RESOURCE;

  private NodeReader() {}

  /** Reads {@code node}; never throws on bad labels. */
  public static NodeReading read(Node node) {
    String name = node.getMetadata().getName();
    Map<String, String> labels =
        Optional.ofNullable(node.getMetadata().getLabels()).orElse(Map.of());
    Map<String, Quantity> allocatable =
        node.getStatus() == null || node.getStatus().getAllocatable() == null
            ? Map.of()
            : node.getStatus().getAllocatable();

    boolean advertisesGpus =
        allocatable.keySet().stream()
            .anyMatch(
                r ->
                    r.equals(GfdLabels.GPU_RESOURCE)
                        || r.equals(GfdLabels.SHARED_GPU_RESOURCE)
                        || r.startsWith(GfdLabels.MIG_RESOURCE_PREFIX));
    if (!"true".equals(labels.get(GfdLabels.PRESENT)) && !advertisesGpus) {
      return new NodeReading.Skipped(
          name, "not a GPU node (no " + GfdLabels.PRESENT + "=true)", false);
    }
    try {
      return new NodeReading.Accepted(readGpuNode(node, name, labels, allocatable));
    } catch (BadNodeException e) {
      return new NodeReading.Skipped(name, e.getMessage(), true);
    }
  }

  private static GpuNode readGpuNode(
      Node node, String name, Map<String, String> labels, Map<String, Quantity> allocatable) {
    String provider =
        required(labels, GpupoolApi.PROVIDER_LABEL, "the node belongs to no GpuProvider");
    String region = required(labels, GfdLabels.REGION, "placement by region needs it");
    String zone = labels.getOrDefault(GfdLabels.ZONE, region);

    String product = required(labels, GfdLabels.PRODUCT, "GFD has not labelled the node");
    if (product.endsWith(GfdLabels.SHARED_SUFFIX)) {
      product = product.substring(0, product.length() - GfdLabels.SHARED_SUFFIX.length());
    }
    if (!product.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw new BadNodeException(
          "label " + GfdLabels.PRODUCT + " is '" + product + "', not a GFD product name");
    }
    int count = positiveInt(labels, GfdLabels.COUNT, null);
    int memoryMiB = positiveInt(labels, GfdLabels.MEMORY, null);
    int computeMajor = nonNegativeInt(labels, GfdLabels.COMPUTE_MAJOR, 0);
    int computeMinor = nonNegativeInt(labels, GfdLabels.COMPUTE_MINOR, 0);
    String family = labels.getOrDefault(GfdLabels.FAMILY, "unknown");

    String strategyLabel = labels.getOrDefault(GfdLabels.SHARING_STRATEGY, "none");
    SharingStrategy sharing =
        SharingStrategy.fromLabel(strategyLabel)
            .orElseThrow(
                () ->
                    new BadNodeException(
                        "label "
                            + GfdLabels.SHARING_STRATEGY
                            + " is '"
                            + strategyLabel
                            + "', expected none, time-slicing or mps"));
    int replicas = positiveInt(labels, GfdLabels.REPLICAS, 1);
    if (sharing == SharingStrategy.NONE && replicas > 1) {
      // Older GFD releases set replicas without the strategy label; replicas alone mean sharing.
      sharing = SharingStrategy.TIME_SLICING;
    }

    Map<String, Integer> migDevices = new TreeMap<>();
    allocatable.forEach(
        (resource, quantity) -> {
          if (resource.startsWith(GfdLabels.MIG_RESOURCE_PREFIX)) {
            migDevices.put(
                resource.substring(GfdLabels.MIG_RESOURCE_PREFIX.length()),
                wholeNumber(resource, quantity));
          }
        });

    String slotResource =
        allocatable.containsKey(GfdLabels.SHARED_GPU_RESOURCE)
            ? GfdLabels.SHARED_GPU_RESOURCE
            : GfdLabels.GPU_RESOURCE;
    int slots =
        allocatable.containsKey(slotResource)
            ? wholeNumber(slotResource, allocatable.get(slotResource))
            : 0;
    boolean migSingle =
        "single".equals(labels.get(GfdLabels.MIG_STRATEGY)) || product.contains("-MIG-");
    int maxSlots = migSingle ? count * 7 : count * replicas;
    if (slots > maxSlots) {
      throw new BadNodeException(
          "advertises "
              + slots
              + " "
              + slotResource
              + " but has "
              + count
              + " GPUs x "
              + replicas
              + " replicas: labels and device plugin disagree");
    }
    if (slots == 0 && migDevices.isEmpty()) {
      throw new BadNodeException(
          "advertises no allocatable "
              + GfdLabels.GPU_RESOURCE
              + " (device plugin not running or all GPUs unhealthy)");
    }

    return new GpuNode(
        name,
        provider,
        region,
        zone,
        product,
        family,
        computeMajor,
        computeMinor,
        count,
        memoryMiB,
        sharing,
        replicas,
        slotResource,
        slots,
        migDevices,
        cpuMillis(allocatable.get("cpu")),
        bytes(allocatable.get("memory")),
        isReady(node),
        isReady(node) ? null : notReadySince(node),
        isSchedulable(node));
  }

  private static Instant notReadySince(Node node) {
    List<NodeCondition> conditions =
        node.getStatus() == null ? null : node.getStatus().getConditions();
    if (conditions == null) {
      return null;
    }
    return conditions.stream()
        .filter(c -> "Ready".equals(c.getType()) && c.getLastTransitionTime() != null)
        .findFirst()
        .map(NodeReader::parseTime)
        .orElse(null);
  }

  private static Instant parseTime(NodeCondition condition) {
    try {
      return Instant.parse(condition.getLastTransitionTime());
    } catch (DateTimeParseException e) {
      return null; // an unreadable time is treated as "just now" by the grace period
    }
  }

  private static boolean isReady(Node node) {
    List<NodeCondition> conditions =
        node.getStatus() == null ? null : node.getStatus().getConditions();
    return conditions != null
        && conditions.stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * Cordoned nodes, and nodes tainted with anything but the GPU taint our pods tolerate, are not.
   */
  private static boolean isSchedulable(Node node) {
    if (node.getSpec() == null) {
      return true;
    }
    if (Boolean.TRUE.equals(node.getSpec().getUnschedulable())) {
      return false;
    }
    List<Taint> taints = node.getSpec().getTaints();
    return taints == null
        || taints.stream()
            .allMatch(
                t -> GPU_TAINT.equals(t.getKey()) || "PreferNoSchedule".equals(t.getEffect()));
  }

  private static String required(Map<String, String> labels, String key, String why) {
    String value = labels.get(key);
    if (value == null || value.isBlank()) {
      throw new BadNodeException("label " + key + " is missing: " + why);
    }
    return value;
  }

  private static int positiveInt(Map<String, String> labels, String key, Integer fallback) {
    String value = labels.get(key);
    if (value == null && fallback != null) {
      return fallback;
    }
    if (value == null) {
      throw new BadNodeException("label " + key + " is missing");
    }
    try {
      int parsed = Integer.parseInt(value.trim());
      if (parsed > 0) {
        return parsed;
      }
    } catch (NumberFormatException ignored) {
      // reported below with the offending value
    }
    throw new BadNodeException("label " + key + " is '" + value + "', expected a positive integer");
  }

  private static int nonNegativeInt(Map<String, String> labels, String key, int fallback) {
    String value = labels.get(key);
    if (value == null) {
      return fallback;
    }
    try {
      int parsed = Integer.parseInt(value.trim());
      if (parsed >= 0) {
        return parsed;
      }
    } catch (NumberFormatException ignored) {
      // reported below with the offending value
    }
    throw new BadNodeException(
        "label " + key + " is '" + value + "', expected a non-negative integer");
  }

  private static int wholeNumber(String resource, Quantity quantity) {
    try {
      BigDecimal amount = Quantity.getAmountInBytes(quantity);
      return amount.intValueExact();
    } catch (ArithmeticException | IllegalArgumentException e) {
      throw new BadNodeException(
          "resource " + resource + " is '" + quantity + "', expected a whole number");
    }
  }

  private static long cpuMillis(Quantity cpu) {
    if (cpu == null) {
      return 0;
    }
    return Quantity.getAmountInBytes(cpu).movePointRight(3).longValue();
  }

  private static long bytes(Quantity memory) {
    return memory == null ? 0 : Quantity.getAmountInBytes(memory).longValue();
  }

  /** A GPU node whose description cannot be trusted. */
  private static final class BadNodeException extends RuntimeException {
    BadNodeException(String message) {
      super(message, null, false, false);
    }
  }
}
