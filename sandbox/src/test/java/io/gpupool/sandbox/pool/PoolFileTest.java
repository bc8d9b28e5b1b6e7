package io.gpupool.sandbox.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.Node;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class PoolFileTest {

  private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");

  @Test
  void defaultPoolMixesFourGpuModelsThreeRegionsSixProviders() {
    PoolSpec pool = PoolFile.loadDefault();
    var nodes = NodeFactory.nodes(pool, NOW);

    assertThat(nodes).hasSizeGreaterThanOrEqualTo(24);
    assertThat(pool.providers()).hasSize(6);
    Set<String> products =
        nodes.stream()
            .map(n -> n.getMetadata().getLabels().get("nvidia.com/gpu.product"))
            .map(p -> p.replace("-SHARED", ""))
            .collect(Collectors.toSet());
    assertThat(products)
        .containsExactlyInAnyOrder(
            "NVIDIA-GeForce-RTX-3090",
            "NVIDIA-GeForce-RTX-4090",
            "NVIDIA-A100-SXM4-80GB",
            "NVIDIA-H100-80GB-HBM3");
    assertThat(
            nodes.stream()
                .map(n -> n.getMetadata().getLabels().get("topology.kubernetes.io/region"))
                .collect(Collectors.toSet()))
        .containsExactlyInAnyOrder("eu-west", "us-east", "ap-south");
    assertThat(
            nodes.stream()
                .map(n -> n.getMetadata().getLabels().get(NodeFactory.PROVIDER_LABEL))
                .collect(Collectors.toSet()))
        .hasSize(6);
    assertThat(
            nodes.stream()
                .filter(
                    n ->
                        "time-slicing"
                            .equals(
                                n.getMetadata().getLabels().get("nvidia.com/gpu.sharing-strategy")))
                .count())
        .isGreaterThanOrEqualTo(3);
    assertThat(nodes.stream().map(n -> n.getMetadata().getName()).distinct().count())
        .isEqualTo(nodes.size());
  }

  @Test
  void yamlAnchorsAndMergeKeysExpandInTheDefaultPool() {
    PoolSpec pool = PoolFile.loadDefault();
    PoolSpec.NodeGroup us4090 =
        pool.nodeGroups().stream()
            .filter(g -> g.namePrefix().equals("us-east-4090"))
            .findFirst()
            .orElseThrow();
    assertThat(us4090.gpu().product()).isEqualTo("NVIDIA-GeForce-RTX-4090");
    assertThat(us4090.gpu().count()).isEqualTo(1);
    assertThat(us4090.gpu().memoryMiB()).isEqualTo(24564);
    assertThat(us4090.gpu().computeMinor()).isEqualTo(9);
  }

  @Test
  void gfdLabelsOfATimeSlicedRtx3090Node() {
    PoolSpec pool =
        PoolFile.parse(
            """
            providers:
              - name: p1
                payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                prices: {NVIDIA-GeForce-RTX-3090: "0.20"}
            nodeGroups:
              - namePrefix: g
                count: 2
                provider: p1
                region: eu-west
                zone: eu-west-1b
                cpu: "8"
                memory: 32Gi
                gpu:
                  product: NVIDIA-GeForce-RTX-3090
                  count: 2
                  memoryMiB: 24576
                  family: ampere
                  computeMajor: 8
                  computeMinor: 6
                  sharing: {strategy: time-slicing, replicas: 4}
            """);
    Node node = NodeFactory.nodes(pool, NOW).get(1);
    Map<String, String> l = node.getMetadata().getLabels();

    assertThat(node.getMetadata().getName()).isEqualTo("g-2");
    assertThat(l)
        .containsEntry("nvidia.com/gpu.present", "true")
        .containsEntry("nvidia.com/gpu.product", "NVIDIA-GeForce-RTX-3090-SHARED")
        .containsEntry("nvidia.com/gpu.count", "2")
        .containsEntry("nvidia.com/gpu.memory", "24576")
        .containsEntry("nvidia.com/gpu.family", "ampere")
        .containsEntry("nvidia.com/gpu.compute.major", "8")
        .containsEntry("nvidia.com/gpu.compute.minor", "6")
        .containsEntry("nvidia.com/gpu.replicas", "4")
        .containsEntry("nvidia.com/gpu.sharing-strategy", "time-slicing")
        .containsEntry("nvidia.com/mig.capable", "false")
        .containsEntry("nvidia.com/mps.capable", "false")
        .containsEntry("nvidia.com/mig.strategy", "none")
        .containsEntry("nvidia.com/cuda.driver-version.major", "550")
        .containsEntry("nvidia.com/cuda.driver-version.minor", "54")
        .containsEntry("nvidia.com/cuda.driver-version.revision", "15")
        .containsEntry("nvidia.com/cuda.driver-version.full", "550.54.15")
        .containsEntry("nvidia.com/cuda.runtime-version.major", "12")
        .containsEntry("nvidia.com/cuda.runtime-version.minor", "4")
        .containsEntry("nvidia.com/gfd.timestamp", "1767323045")
        .containsEntry("topology.kubernetes.io/region", "eu-west")
        .containsEntry("topology.kubernetes.io/zone", "eu-west-1b")
        .containsEntry("kubernetes.io/hostname", "g-2")
        .containsEntry("gpupool.io/provider", "p1");
    assertThat(node.getStatus().getAllocatable().get("nvidia.com/gpu").toString()).isEqualTo("8");
    assertThat(node.getStatus().getCapacity().get("nvidia.com/gpu").toString()).isEqualTo("8");
    assertThat(node.getSpec().getTaints())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
              assertThat(t.getEffect()).isEqualTo("NoSchedule");
            });
    assertThat(node.getStatus().getConditions())
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Ready");
              assertThat(c.getStatus()).isEqualTo("True");
            });
  }

  @Test
  void wholeGpusAndMigCapabilityOfAnH100Node() {
    PoolSpec.Gpu h100 =
        new PoolSpec.Gpu(
            "NVIDIA-H100-80GB-HBM3", 8, 81559, "hopper", 9, 0, null, null, null, null, null);
    PoolSpec.NodeGroup g =
        new PoolSpec.NodeGroup(
            "h", 1, "p", "us-east", "us-east-1a", h100, "64", "512Gi", null, null, null);
    Map<String, String> l = NodeFactory.labels("h-1", g, NOW);
    assertThat(l)
        .containsEntry("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3")
        .containsEntry("nvidia.com/gpu.replicas", "1")
        .containsEntry("nvidia.com/gpu.sharing-strategy", "none")
        .containsEntry("nvidia.com/mig.capable", "true");
    assertThat(NodeFactory.allocatableGpus(h100)).isEqualTo(8);
  }

  @Test
  void gpuProviderResourceCarriesPricesAsDecimalStrings() {
    PoolSpec.Provider p =
        PoolFile.loadDefault().providers().stream()
            .filter(x -> x.name().equals("lakeside-labs"))
            .findFirst()
            .orElseThrow();
    var gp = NodeFactory.gpuProvider(p);
    assertThat(gp.getApiVersion()).isEqualTo("gpupool.io/v1alpha1");
    assertThat(gp.getKind()).isEqualTo("GpuProvider");
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) gp.getAdditionalProperties().get("spec");
    assertThat(spec).containsEntry("payoutAddress", "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65");
    assertThat(spec.get("prices").toString())
        .contains("gpuProduct=NVIDIA-H100-80GB-HBM3", "pricePerGpuHour=2.49");
  }

  @Test
  void invalidPoolsAreRefusedWithEveryProblemNamed() {
    assertThatThrownBy(
            () ->
                PoolFile.parse(
                    """
                    providers:
                      - name: p1
                        payoutAddress: "0x123"
                        prices: {A: "cheap"}
                    nodeGroups:
                      - namePrefix: g
                        count: 0
                        provider: nobody
                        region: r
                        zone: z
                        gpu: {product: X, count: 1, memoryMiB: 1, family: f,
                              sharing: {strategy: time-slicing, replicas: 1}}
                    """))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("payoutAddress")
        .hasMessageContaining("price of A")
        .hasMessageContaining("count must be at least 1")
        .hasMessageContaining("provider nobody")
        .hasMessageContaining("replicas must be at least 2");
    assertThatThrownBy(() -> PoolFile.parse("nodeGroups:\n  - namePrefix: g\n    colour: red\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("colour");
  }
}
