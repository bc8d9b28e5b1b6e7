package io.gpupool.e2e.bench;

import io.gpupool.sandbox.pool.PoolSpec;
import io.gpupool.sandbox.pool.PoolSpec.Gpu;
import io.gpupool.sandbox.pool.PoolSpec.NodeGroup;
import io.gpupool.sandbox.pool.PoolSpec.Provider;
import io.gpupool.sandbox.pool.PoolSpec.Sharing;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A community pool of any size with a realistic mix of GPUs: consumer cards in small nodes are most
 * of the machines, data-centre GPUs in 8-GPU servers most of the GPUs. Products, memory as NVML
 * reports it and compute capability follow docs' GPU catalog (shared/reference/gpu-catalog.md).
 * Deterministic: the same size gives the same pool.
 */
public final class PoolGenerator {
  private PoolGenerator() {}

  /** One kind of machine: a product, GPUs per node, its share of the nodes and its flavor. */
  record Machine(
      String product,
      int memoryMiB,
      String family,
      int major,
      int minor,
      int gpusPerNode,
      double share,
      String flavor,
      String price) {}

  static final String DATACENTER = "datacenter";
  static final String WORKSTATION = "workstation";
  static final String CONSUMER = "consumer";

  static final List<Machine> MIX =
      List.of(
          new Machine(
              "NVIDIA-GeForce-RTX-4090", 24564, "ada-lovelace", 8, 9, 1, 0.14, CONSUMER, "0.40"),
          new Machine(
              "NVIDIA-GeForce-RTX-4090", 24564, "ada-lovelace", 8, 9, 2, 0.12, CONSUMER, "0.42"),
          new Machine(
              "NVIDIA-GeForce-RTX-4090", 24564, "ada-lovelace", 8, 9, 4, 0.08, CONSUMER, "0.45"),
          new Machine("NVIDIA-GeForce-RTX-3090", 24576, "ampere", 8, 6, 1, 0.10, CONSUMER, "0.20"),
          new Machine("NVIDIA-GeForce-RTX-3090", 24576, "ampere", 8, 6, 2, 0.08, CONSUMER, "0.22"),
          new Machine("NVIDIA-RTX-A6000", 49140, "ampere", 8, 6, 2, 0.06, WORKSTATION, "0.60"),
          new Machine("NVIDIA-L4", 23034, "ada-lovelace", 8, 9, 4, 0.06, WORKSTATION, "0.35"),
          new Machine("NVIDIA-A10", 23028, "ampere", 8, 6, 4, 0.06, WORKSTATION, "0.45"),
          new Machine("NVIDIA-L40S", 46068, "ada-lovelace", 8, 9, 8, 0.06, WORKSTATION, "0.90"),
          new Machine("NVIDIA-A100-PCIE-40GB", 39538, "ampere", 8, 0, 4, 0.04, DATACENTER, "1.10"),
          new Machine("NVIDIA-A100-SXM4-80GB", 81920, "ampere", 8, 0, 8, 0.10, DATACENTER, "1.40"),
          new Machine("NVIDIA-H100-80GB-HBM3", 81559, "hopper", 9, 0, 8, 0.08, DATACENTER, "2.40"),
          new Machine("NVIDIA-H200", 143771, "hopper", 9, 0, 8, 0.02, DATACENTER, "3.20"));

  private static final String[] REGIONS = {"eu-west", "us-east", "us-west", "ap-south"};
  private static final int GROUP_NODES = 50;
  private static final int PROVIDERS = 40;

  /** {@code nodes} nodes (exactly) over 40 providers in four regions. */
  public static PoolSpec generate(int nodes) {
    List<Integer> counts = new ArrayList<>();
    int assigned = 0;
    for (int i = 0; i < MIX.size(); i++) {
      int n = i == MIX.size() - 1 ? nodes - assigned : (int) Math.round(MIX.get(i).share() * nodes);
      n = Math.max(0, Math.min(n, nodes - assigned));
      counts.add(n);
      assigned += n;
    }
    Map<String, Map<String, String>> prices = new LinkedHashMap<>();
    List<NodeGroup> groups = new ArrayList<>();
    int group = 0;
    for (int i = 0; i < MIX.size(); i++) {
      Machine m = MIX.get(i);
      for (int left = counts.get(i); left > 0; left -= GROUP_NODES, group++) {
        int provider = group % PROVIDERS;
        String name = "provider-" + provider;
        String region = REGIONS[provider % REGIONS.length];
        prices.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(m.product(), m.price());
        boolean big = m.gpusPerNode() >= 4;
        groups.add(
            new NodeGroup(
                "g" + group + "-" + shortName(m.product()) + "x" + m.gpusPerNode(),
                Math.min(GROUP_NODES, left),
                name,
                region,
                region + "-1" + (char) ('a' + group % 3),
                new Gpu(
                    m.product(),
                    m.gpusPerNode(),
                    m.memoryMiB(),
                    m.family(),
                    m.major(),
                    m.minor(),
                    null,
                    Sharing.NONE,
                    null,
                    null,
                    null),
                big ? "96" : "32",
                big ? "1024Gi" : "128Gi",
                null,
                null,
                null));
      }
    }
    List<Provider> providers = new ArrayList<>();
    int p = 0;
    for (var e : prices.entrySet()) {
      providers.add(
          new Provider(
              e.getKey(),
              "Bench provider " + e.getKey(),
              String.format("0x%040x", 0x1000 + p++),
              REGIONS[Integer.parseInt(e.getKey().substring("provider-".length())) % 4],
              e.getValue()));
    }
    return new PoolSpec(providers, groups);
  }

  /** GPUs per flavor in the generated pool. */
  static Map<String, Integer> gpusByFlavor(PoolSpec pool) {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (NodeGroup g : pool.nodeGroups()) {
      out.merge(flavorOf(g.gpu().product()), g.count() * g.gpu().count(), Integer::sum);
    }
    return out;
  }

  static String flavorOf(String product) {
    return MIX.stream().filter(m -> m.product().equals(product)).findFirst().orElseThrow().flavor();
  }

  static Set<String> products(String flavor) {
    Set<String> out = new java.util.LinkedHashSet<>();
    MIX.stream().filter(m -> m.flavor().equals(flavor)).forEach(m -> out.add(m.product()));
    return out;
  }

  /** The most GPUs one node of a flavor has: a worker of the flavor may not ask for more. */
  static int maxPerNode(String flavor) {
    return MIX.stream()
        .filter(m -> m.flavor().equals(flavor))
        .mapToInt(Machine::gpusPerNode)
        .max()
        .orElseThrow();
  }

  private static String shortName(String product) {
    String s = product.replace("NVIDIA-", "").replace("GeForce-", "").toLowerCase();
    return s.length() > 12 ? s.substring(0, 12).replaceAll("-$", "") : s;
  }
}
