package io.gpupool.sandbox.pool;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;
import java.util.Map;

/** A pool file: the providers and the groups of simulated GPU nodes. */
@JsonIgnoreProperties(ignoreUnknown = false)
public record PoolSpec(List<Provider> providers, List<NodeGroup> nodeGroups) {

  public PoolSpec {
    providers = providers == null ? List.of() : List.copyOf(providers);
    nodeGroups = nodeGroups == null ? List.of() : List.copyOf(nodeGroups);
  }

  /**
   * A community contributor; becomes a {@code GpuProvider} custom resource. {@code stakePerGpu}
   * (tokens, a decimal string; optional) is what it stakes per GPU on the sandbox's chain when its
   * payout address is a dev account: unset, the gate's own figure.
   */
  public record Provider(
      String name,
      String displayName,
      String payoutAddress,
      String region,
      Map<String, String> prices,
      String stakePerGpu) {

    /** A provider that stakes the sandbox's default per GPU. */
    public Provider(
        String name,
        String displayName,
        String payoutAddress,
        String region,
        Map<String, String> prices) {
      this(name, displayName, payoutAddress, region, prices, null);
    }
  }

  /** {@code count} identical nodes named {@code namePrefix-1..count}. */
  public record NodeGroup(
      String namePrefix,
      int count,
      String provider,
      String region,
      String zone,
      Gpu gpu,
      String cpu,
      String memory,
      Boolean gpuTaint,
      List<Taint> taints,
      Map<String, String> labels) {}

  /** The GPUs of one node as GPU Feature Discovery would describe them. */
  public record Gpu(
      String product,
      int count,
      int memoryMiB,
      String family,
      int computeMajor,
      int computeMinor,
      String machine,
      Sharing sharing,
      Boolean migCapable,
      String driverVersion,
      String cudaRuntimeVersion) {}

  /** Device-plugin sharing: {@code none}, {@code time-slicing} or {@code mps} with replicas. */
  public record Sharing(String strategy, int replicas) {
    public static final Sharing NONE = new Sharing("none", 1);

    public boolean shared() {
      return !"none".equals(strategy);
    }
  }

  /** An extra node taint. */
  public record Taint(String key, String value, String effect) {}
}
