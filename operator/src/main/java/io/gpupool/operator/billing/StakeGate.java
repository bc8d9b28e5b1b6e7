package io.gpupool.operator.billing;

import io.gpupool.billing.TokenUnits;
import io.gpupool.operator.inventory.GpuNode;
import java.math.BigInteger;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Which providers placement leaves out because their stake does not cover {@code min-stake-per-gpu}
 * × the GPUs they offer. Pure: stakes come in as a function, nodes as the inventory has them.
 *
 * @param minPerGpuWei stake required per GPU; 0 turns the gate off
 * @param tokenSymbol shown beside amounts in reasons
 */
public record StakeGate(BigInteger minPerGpuWei, String tokenSymbol) {

  public boolean enabled() {
    return minPerGpuWei.signum() > 0;
  }

  /** GPUs each provider offers: every GPU of its nodes in the pool. */
  public static Map<String, Integer> gpusByProvider(Collection<GpuNode> nodes) {
    Map<String, Integer> gpus = new TreeMap<>();
    for (GpuNode n : nodes) {
      gpus.merge(n.provider(), n.physicalGpus(), Integer::sum);
    }
    return gpus;
  }

  /** Stake the provider needs for {@code gpus} GPUs. */
  public BigInteger required(int gpus) {
    return minPerGpuWei.multiply(BigInteger.valueOf(gpus));
  }

  /**
   * Provider name to the reason it is left out; empty when the gate is off.
   *
   * @param committedStake the provider's committed stake in wei; empty when it was never read
   */
  public Map<String, String> excludedProviders(
      Collection<GpuNode> nodes, Function<String, Optional<BigInteger>> committedStake) {
    if (!enabled()) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    gpusByProvider(nodes)
        .forEach(
            (provider, gpus) -> {
              BigInteger need = required(gpus);
              Optional<BigInteger> has = committedStake.apply(provider);
              if (has.isEmpty()) {
                out.put(
                    provider,
                    "provider "
                        + provider
                        + " has no stake known on chain ("
                        + tokens(need)
                        + " required for "
                        + gpus
                        + " GPUs)");
              } else if (has.get().compareTo(need) < 0) {
                out.put(
                    provider,
                    "provider "
                        + provider
                        + " stakes "
                        + tokens(has.get())
                        + " of the "
                        + tokens(need)
                        + " required for "
                        + gpus
                        + " GPUs");
              }
            });
    return out;
  }

  /** Node name to reason for every node of an excluded provider. */
  public Map<String, String> excludedNodes(
      Collection<GpuNode> nodes, Function<String, Optional<BigInteger>> committedStake) {
    Map<String, String> byProvider = excludedProviders(nodes, committedStake);
    if (byProvider.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new HashMap<>();
    for (GpuNode n : nodes) {
      String why = byProvider.get(n.provider());
      if (why != null) {
        out.put(n.name(), why);
      }
    }
    return out;
  }

  private String tokens(BigInteger wei) {
    return TokenUnits.fromWei(wei).toPlainString() + " " + tokenSymbol;
  }
}
