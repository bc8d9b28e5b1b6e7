package io.gpupool.sandbox.pool;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.NodeConditionBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Taint;
import io.fabric8.kubernetes.api.model.TaintBuilder;
import io.gpupool.sandbox.pool.PoolSpec.Gpu;
import io.gpupool.sandbox.pool.PoolSpec.NodeGroup;
import io.gpupool.sandbox.pool.PoolSpec.Provider;
import io.gpupool.sandbox.pool.PoolSpec.Sharing;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns pool node groups into Nodes carrying exactly what GPU Feature Discovery and the NVIDIA
 * device plugin would set (labels, {@code nvidia.com/gpu} capacity), plus topology and provider
 * labels and the usual {@code nvidia.com/gpu} NoSchedule taint.
 */
public final class NodeFactory {

  public static final String GPU_RESOURCE = "nvidia.com/gpu";
  public static final String PROVIDER_LABEL = "gpupool.io/provider";
  public static final String DEFAULT_DRIVER = "550.54.15";
  public static final String DEFAULT_CUDA_RUNTIME = "12.4";
  public static final String KUBELET_VERSION = "v1.32.0";

  /** GPUs GFD reports as MIG-capable (Ampere/Hopper data-centre parts). */
  private static final Set<String> MIG_FAMILIES_PRODUCTS = Set.of("A100", "H100", "H200", "A30");

  private NodeFactory() {}

  /** Node names of a group: {@code prefix-1 .. prefix-count}. */
  public static List<String> names(NodeGroup g) {
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= g.count(); i++) {
      names.add(g.namePrefix() + "-" + i);
    }
    return names;
  }

  /** Every node of the pool, in file order. */
  public static List<Node> nodes(PoolSpec pool, Instant now) {
    List<Node> nodes = new ArrayList<>();
    int index = 0;
    for (NodeGroup g : pool.nodeGroups()) {
      for (String name : names(g)) {
        nodes.add(node(name, g, ++index, now));
      }
    }
    return nodes;
  }

  /** The labels GFD + topology + provider put on a node of group {@code g}. */
  public static Map<String, String> labels(String nodeName, NodeGroup g, Instant now) {
    Gpu gpu = g.gpu();
    Sharing sharing = gpu.sharing() == null ? Sharing.NONE : gpu.sharing();
    String driver = gpu.driverVersion() == null ? DEFAULT_DRIVER : gpu.driverVersion();
    String runtime =
        gpu.cudaRuntimeVersion() == null ? DEFAULT_CUDA_RUNTIME : gpu.cudaRuntimeVersion();
    String[] d = driver.split("\\.");
    String[] r = runtime.split("\\.");
    Map<String, String> labels = new LinkedHashMap<>();
    labels.put("kubernetes.io/hostname", nodeName);
    labels.put("kubernetes.io/os", "linux");
    labels.put("kubernetes.io/arch", "amd64");
    labels.put("topology.kubernetes.io/region", g.region());
    labels.put("topology.kubernetes.io/zone", g.zone());
    labels.put(PROVIDER_LABEL, g.provider());
    labels.put("nvidia.com/gpu.present", "true");
    labels.put("nvidia.com/gpu.product", gpu.product() + (sharing.shared() ? "-SHARED" : ""));
    labels.put("nvidia.com/gpu.count", String.valueOf(gpu.count()));
    labels.put("nvidia.com/gpu.memory", String.valueOf(gpu.memoryMiB()));
    labels.put("nvidia.com/gpu.family", gpu.family());
    labels.put("nvidia.com/gpu.compute.major", String.valueOf(gpu.computeMajor()));
    labels.put("nvidia.com/gpu.compute.minor", String.valueOf(gpu.computeMinor()));
    labels.put(
        "nvidia.com/gpu.machine", gpu.machine() == null ? "Sandbox-Simulated-Host" : gpu.machine());
    labels.put(
        "nvidia.com/gpu.replicas", String.valueOf(sharing.shared() ? sharing.replicas() : 1));
    labels.put("nvidia.com/gpu.sharing-strategy", sharing.strategy());
    labels.put("nvidia.com/cuda.driver-version.major", d[0]);
    labels.put("nvidia.com/cuda.driver-version.minor", d.length > 1 ? d[1] : "0");
    labels.put("nvidia.com/cuda.driver-version.revision", d.length > 2 ? d[2] : "0");
    labels.put("nvidia.com/cuda.driver-version.full", driver);
    labels.put("nvidia.com/cuda.runtime-version.major", r[0]);
    labels.put("nvidia.com/cuda.runtime-version.minor", r.length > 1 ? r[1] : "0");
    labels.put("nvidia.com/cuda.runtime-version.full", runtime);
    labels.put("nvidia.com/mig.capable", String.valueOf(migCapable(gpu)));
    labels.put("nvidia.com/mps.capable", String.valueOf("mps".equals(sharing.strategy())));
    labels.put("nvidia.com/mig.strategy", "none");
    labels.put("nvidia.com/gfd.timestamp", String.valueOf(now.getEpochSecond()));
    if (g.labels() != null) {
      labels.putAll(g.labels());
    }
    return labels;
  }

  /** {@code nvidia.com/gpu} the device plugin advertises: GPUs × replicas when shared. */
  public static int allocatableGpus(Gpu gpu) {
    Sharing sharing = gpu.sharing() == null ? Sharing.NONE : gpu.sharing();
    return gpu.count() * (sharing.shared() ? sharing.replicas() : 1);
  }

  private static boolean migCapable(Gpu gpu) {
    if (gpu.migCapable() != null) {
      return gpu.migCapable();
    }
    return MIG_FAMILIES_PRODUCTS.stream().anyMatch(p -> gpu.product().contains(p));
  }

  /** One Ready node of group {@code g}; {@code index} picks its internal IP. */
  public static Node node(String name, NodeGroup g, int index, Instant now) {
    Map<String, Quantity> resources = new LinkedHashMap<>();
    resources.put("cpu", new Quantity(g.cpu() == null ? "16" : g.cpu()));
    resources.put("memory", new Quantity(g.memory() == null ? "64Gi" : g.memory()));
    resources.put("pods", new Quantity("110"));
    resources.put("ephemeral-storage", new Quantity("500Gi"));
    resources.put(GPU_RESOURCE, new Quantity(String.valueOf(allocatableGpus(g.gpu()))));
    List<Taint> taints = new ArrayList<>();
    if (g.gpuTaint() == null || g.gpuTaint()) {
      taints.add(
          new TaintBuilder()
              .withKey(GPU_RESOURCE)
              .withValue("present")
              .withEffect("NoSchedule")
              .build());
    }
    if (g.taints() != null) {
      for (PoolSpec.Taint t : g.taints()) {
        taints.add(
            new TaintBuilder()
                .withKey(t.key())
                .withValue(t.value())
                .withEffect(t.effect())
                .build());
      }
    }
    String ts = now.truncatedTo(ChronoUnit.SECONDS).toString();
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels(name, g, now))
        .addToAnnotations("sandbox.gpupool.io/simulated", "true")
        .endMetadata()
        .withNewSpec()
        .withTaints(taints)
        .endSpec()
        .withNewStatus()
        .withCapacity(resources)
        .withAllocatable(new LinkedHashMap<>(resources))
        .withConditions(
            new NodeConditionBuilder()
                .withType("Ready")
                .withStatus("True")
                .withReason("KubeletReady")
                .withMessage("kubelet is posting ready status (simulated)")
                .withLastHeartbeatTime(ts)
                .withLastTransitionTime(ts)
                .build(),
            condition("MemoryPressure", "KubeletHasSufficientMemory", ts),
            condition("DiskPressure", "KubeletHasNoDiskPressure", ts),
            condition("PIDPressure", "KubeletHasSufficientPID", ts))
        .addNewAddress()
        .withType("InternalIP")
        .withAddress("10.20." + (index / 250) + "." + (index % 250 + 1))
        .endAddress()
        .addNewAddress()
        .withType("Hostname")
        .withAddress(name)
        .endAddress()
        .withNewNodeInfo()
        .withKubeletVersion(KUBELET_VERSION)
        .withKubeProxyVersion(KUBELET_VERSION)
        .withOsImage("Ubuntu 22.04.4 LTS (gpupool sandbox)")
        .withKernelVersion("6.5.0-sandbox")
        .withContainerRuntimeVersion("containerd://1.7.13")
        .withOperatingSystem("linux")
        .withArchitecture("amd64")
        .withMachineID(name)
        .withSystemUUID(name)
        .withBootID(name)
        .endNodeInfo()
        .endStatus()
        .build();
  }

  private static io.fabric8.kubernetes.api.model.NodeCondition condition(
      String type, String reason, String ts) {
    return new NodeConditionBuilder()
        .withType(type)
        .withStatus("False")
        .withReason(reason)
        .withLastHeartbeatTime(ts)
        .withLastTransitionTime(ts)
        .build();
  }

  /** The GpuProvider custom resource (gpupool.io/v1alpha1, cluster-scoped) for a provider. */
  public static GenericKubernetesResource gpuProvider(Provider p) {
    List<Map<String, Object>> prices = new ArrayList<>();
    p.prices()
        .forEach(
            (product, price) -> {
              Map<String, Object> entry = new LinkedHashMap<>();
              entry.put("gpuProduct", product);
              entry.put("pricePerGpuHour", price);
              prices.add(entry);
            });
    Map<String, Object> spec = new LinkedHashMap<>();
    if (p.displayName() != null) {
      spec.put("displayName", p.displayName());
    }
    spec.put("payoutAddress", p.payoutAddress());
    if (p.region() != null) {
      spec.put("region", p.region());
    }
    spec.put("prices", prices);
    return new GenericKubernetesResourceBuilder()
        .withApiVersion("gpupool.io/v1alpha1")
        .withKind("GpuProvider")
        .withNewMetadata()
        .withName(p.name())
        .addToLabels("app.kubernetes.io/managed-by", "gpupool-sandbox")
        .endMetadata()
        .withAdditionalProperties(Map.of("spec", spec))
        .build();
  }
}
