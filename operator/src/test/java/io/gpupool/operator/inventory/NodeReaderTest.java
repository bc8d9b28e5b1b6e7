package io.gpupool.operator.inventory;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeReaderTest {

  /** Labels as GFD v0.17 writes them on an RTX 4090 node (values copied from a real node). */
  private static Map<String, String> rtx4090Labels() {
    Map<String, String> labels = new HashMap<>();
    labels.put("nvidia.com/gpu.present", "true");
    labels.put("nvidia.com/gpu.product", "NVIDIA-GeForce-RTX-4090");
    labels.put("nvidia.com/gpu.count", "2");
    labels.put("nvidia.com/gpu.memory", "24564");
    labels.put("nvidia.com/gpu.family", "ada-lovelace");
    labels.put("nvidia.com/gpu.compute.major", "8");
    labels.put("nvidia.com/gpu.compute.minor", "9");
    labels.put("nvidia.com/gpu.replicas", "1");
    labels.put("nvidia.com/gpu.sharing-strategy", "none");
    labels.put("nvidia.com/mig.capable", "false");
    labels.put("nvidia.com/mig.strategy", "none");
    labels.put("nvidia.com/cuda.driver-version.full", "550.54.15");
    labels.put("topology.kubernetes.io/region", "eu-west");
    labels.put("topology.kubernetes.io/zone", "eu-west-a");
    labels.put("kubernetes.io/hostname", "n1");
    labels.put("gpupool.io/provider", "alice");
    return labels;
  }

  private static Node node(Map<String, String> labels, Map<String, String> allocatable) {
    Map<String, Quantity> quantities = new HashMap<>();
    allocatable.forEach((k, v) -> quantities.put(k, new Quantity(v)));
    return new NodeBuilder()
        .withNewMetadata()
        .withName("n1")
        .withLabels(labels)
        .endMetadata()
        .withNewSpec()
        .addNewTaint()
        .withKey("nvidia.com/gpu")
        .withEffect("NoSchedule")
        .endTaint()
        .endSpec()
        .withNewStatus()
        .withAllocatable(quantities)
        .withCapacity(quantities)
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .endStatus()
        .build();
  }

  private static GpuNode accepted(NodeReading reading) {
    assertThat(reading).isInstanceOf(NodeReading.Accepted.class);
    return ((NodeReading.Accepted) reading).node();
  }

  private static String skipReason(NodeReading reading) {
    assertThat(reading).isInstanceOf(NodeReading.Skipped.class);
    return ((NodeReading.Skipped) reading).reason();
  }

  @Test
  void readsWholeGpuNode() {
    GpuNode n =
        accepted(
            NodeReader.read(
                node(
                    rtx4090Labels(),
                    Map.of("nvidia.com/gpu", "2", "cpu", "32", "memory", "128Gi"))));
    assertThat(n.product()).isEqualTo("NVIDIA-GeForce-RTX-4090");
    assertThat(n.physicalGpus()).isEqualTo(2);
    assertThat(n.memoryMiB()).isEqualTo(24564);
    assertThat(n.family()).isEqualTo("ada-lovelace");
    assertThat(n.computeMajor()).isEqualTo(8);
    assertThat(n.computeMinor()).isEqualTo(9);
    assertThat(n.sharing()).isEqualTo(SharingStrategy.NONE);
    assertThat(n.shared()).isFalse();
    assertThat(n.allocatableSlots()).isEqualTo(2);
    assertThat(n.provider()).isEqualTo("alice");
    assertThat(n.region()).isEqualTo("eu-west");
    assertThat(n.zone()).isEqualTo("eu-west-a");
    assertThat(n.cpuMillis()).isEqualTo(32_000);
    assertThat(n.memoryBytes()).isEqualTo(128L << 30);
    assertThat(n.usable()).as("GPU taint is tolerated, node is Ready").isTrue();
  }

  @Test
  void timeSlicingWithoutRenameStripsSharedSuffixAndCountsReplicas() {
    Map<String, String> labels = rtx4090Labels();
    labels.put("nvidia.com/gpu.product", "NVIDIA-GeForce-RTX-4090-SHARED");
    labels.put("nvidia.com/gpu.replicas", "4");
    labels.put("nvidia.com/gpu.sharing-strategy", "time-slicing");
    GpuNode n = accepted(NodeReader.read(node(labels, Map.of("nvidia.com/gpu", "8"))));
    assertThat(n.product()).isEqualTo("NVIDIA-GeForce-RTX-4090");
    assertThat(n.sharing()).isEqualTo(SharingStrategy.TIME_SLICING);
    assertThat(n.replicasPerGpu()).isEqualTo(4);
    assertThat(n.allocatableSlots()).isEqualTo(8);
    assertThat(n.sharedResourceName()).isEqualTo("nvidia.com/gpu");
    assertThat(n.shared()).isTrue();
  }

  @Test
  void renamedSharedResourceIsRead() {
    Map<String, String> labels = rtx4090Labels();
    labels.put("nvidia.com/gpu.replicas", "2");
    labels.put("nvidia.com/gpu.sharing-strategy", "mps");
    GpuNode n = accepted(NodeReader.read(node(labels, Map.of("nvidia.com/gpu.shared", "4"))));
    assertThat(n.sharing()).isEqualTo(SharingStrategy.MPS);
    assertThat(n.sharedResourceName()).isEqualTo("nvidia.com/gpu.shared");
    assertThat(n.allocatableSlots()).isEqualTo(4);
  }

  @Test
  void migMixedDevicesAreRecordedByProfile() {
    Map<String, String> labels = rtx4090Labels();
    labels.put("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB");
    labels.put("nvidia.com/gpu.memory", "81920");
    labels.put("nvidia.com/gpu.count", "1");
    labels.put("nvidia.com/mig.strategy", "mixed");
    labels.put("nvidia.com/mig.capable", "true");
    GpuNode n =
        accepted(
            NodeReader.read(
                node(
                    labels,
                    Map.of(
                        "nvidia.com/gpu",
                        "0",
                        "nvidia.com/mig-1g.10gb",
                        "3",
                        "nvidia.com/mig-2g.20gb",
                        "2"))));
    assertThat(n.migDevices()).containsEntry("1g.10gb", 3).containsEntry("2g.20gb", 2);
    assertThat(n.allocatableSlots()).isZero();
  }

  @Test
  void migSingleStrategyCountsSlices() {
    Map<String, String> labels = rtx4090Labels();
    labels.put("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb");
    labels.put("nvidia.com/gpu.memory", "4864");
    labels.put("nvidia.com/gpu.count", "1");
    labels.put("nvidia.com/mig.strategy", "single");
    GpuNode n = accepted(NodeReader.read(node(labels, Map.of("nvidia.com/gpu", "7"))));
    assertThat(n.allocatableSlots()).isEqualTo(7);
    assertThat(n.product()).isEqualTo("NVIDIA-A100-SXM4-40GB-MIG-1g.5gb");
  }

  @Test
  void unhealthyGpusShrinkAllocatableButNodeStays() {
    GpuNode n = accepted(NodeReader.read(node(rtx4090Labels(), Map.of("nvidia.com/gpu", "1"))));
    assertThat(n.allocatableSlots()).isEqualTo(1);
  }

  @Test
  void cpuOnlyNodeIsSkippedQuietly() {
    NodeReading r =
        NodeReader.read(node(Map.of("kubernetes.io/hostname", "cpu1"), Map.of("cpu", "8")));
    assertThat(r).isInstanceOf(NodeReading.Skipped.class);
    assertThat(((NodeReading.Skipped) r).gpuNode()).isFalse();
  }

  @Test
  void missingOrGarbageLabelsAreNamedInTheReason() {
    Map<String, String> noProduct = rtx4090Labels();
    noProduct.remove("nvidia.com/gpu.product");
    assertThat(skipReason(NodeReader.read(node(noProduct, Map.of("nvidia.com/gpu", "2")))))
        .contains("nvidia.com/gpu.product is missing");

    Map<String, String> badCount = rtx4090Labels();
    badCount.put("nvidia.com/gpu.count", "two");
    assertThat(skipReason(NodeReader.read(node(badCount, Map.of("nvidia.com/gpu", "2")))))
        .contains("nvidia.com/gpu.count is 'two'");

    Map<String, String> zeroMemory = rtx4090Labels();
    zeroMemory.put("nvidia.com/gpu.memory", "0");
    assertThat(skipReason(NodeReader.read(node(zeroMemory, Map.of("nvidia.com/gpu", "2")))))
        .contains("nvidia.com/gpu.memory is '0'");

    Map<String, String> noProvider = rtx4090Labels();
    noProvider.remove("gpupool.io/provider");
    assertThat(skipReason(NodeReader.read(node(noProvider, Map.of("nvidia.com/gpu", "2")))))
        .contains("gpupool.io/provider is missing");

    Map<String, String> badStrategy = rtx4090Labels();
    badStrategy.put("nvidia.com/gpu.sharing-strategy", "magic");
    assertThat(skipReason(NodeReader.read(node(badStrategy, Map.of("nvidia.com/gpu", "2")))))
        .contains("sharing-strategy is 'magic'");

    Map<String, String> badProduct = rtx4090Labels();
    badProduct.put("nvidia.com/gpu.product", "RTX 4090!");
    assertThat(skipReason(NodeReader.read(node(badProduct, Map.of("nvidia.com/gpu", "2")))))
        .contains("not a GFD product name");
  }

  @Test
  void allocatableBeyondLabelsIsRejected() {
    assertThat(skipReason(NodeReader.read(node(rtx4090Labels(), Map.of("nvidia.com/gpu", "5")))))
        .contains("labels and device plugin disagree");
  }

  @Test
  void gpuNodeWithoutDevicePluginIsRejected() {
    assertThat(skipReason(NodeReader.read(node(rtx4090Labels(), Map.of("cpu", "8")))))
        .contains("no allocatable nvidia.com/gpu");
  }

  @Test
  void notReadyAndCordonedNodesAreReadButNotUsable() {
    Node notReady = node(rtx4090Labels(), Map.of("nvidia.com/gpu", "2"));
    notReady.getStatus().getConditions().get(0).setStatus("False");
    assertThat(accepted(NodeReader.read(notReady)).usable()).isFalse();

    Node cordoned = node(rtx4090Labels(), Map.of("nvidia.com/gpu", "2"));
    cordoned.getSpec().setUnschedulable(true);
    assertThat(accepted(NodeReader.read(cordoned)).usable()).isFalse();

    Node unreachable = node(rtx4090Labels(), Map.of("nvidia.com/gpu", "2"));
    unreachable
        .getSpec()
        .getTaints()
        .add(
            new io.fabric8.kubernetes.api.model.Taint(
                "NoSchedule", "node.kubernetes.io/unreachable", null, null));
    assertThat(accepted(NodeReader.read(unreachable)).usable()).isFalse();
  }
}
