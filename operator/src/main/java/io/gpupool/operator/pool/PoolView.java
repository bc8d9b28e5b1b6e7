package io.gpupool.operator.pool;

import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.NodeLabels;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Translates the cluster's pool (GPU nodes, provider prices and reliability, GPU slots held) into
 * the scheduler's {@link PoolSnapshot}. Pure.
 *
 * <p>Slots are device-plugin units: a whole GPU on an unshared node, one time-slice or MPS share on
 * a shared one. Holdings become allocations on the lowest free GPU indices; the device plugin picks
 * real devices, so indices only need to add up, not to match.
 */
public final class PoolView {
  private final Map<String, GpuNode> nodes = new HashMap<>();
  private final List<PoolNode> poolNodes = new ArrayList<>();
  private final List<String> notOffered = new ArrayList<>();
  private Map<String, String> exclusions = Map.of();
  private NodeLabels labels = NodeLabels.NONE;

  /**
   * Every node free, exclusions applied: made once, so each snapshot of a view kept between
   * placements hands the scheduler the same node list (its index then adopts it as it is).
   */
  private PoolSnapshot empty;

  /**
   * @param price provider and product to price per GPU-hour, empty when the provider does not price
   *     it (the node is then not offered)
   * @param reliability provider to reliability score
   * @param sharedAllowed whether nodes whose GPUs are time-sliced may be offered (never for
   *     training: a "GPU" there is a slice another job shares)
   */
  public PoolView(
      Collection<GpuNode> gpuNodes,
      BiFunction<String, String, Optional<BigDecimal>> price,
      Function<String, Double> reliability,
      boolean sharedAllowed) {
    for (GpuNode n : gpuNodes) {
      if (!n.usable()) {
        continue;
      }
      if (n.shared() && !sharedAllowed) {
        continue;
      }
      Optional<BigDecimal> p = price.apply(n.provider(), n.product());
      if (p.isEmpty()) {
        notOffered.add(
            n.name() + ": provider " + n.provider() + " has no price for " + n.product());
        continue;
      }
      int gpus = gpusOf(n);
      if (gpus <= 0) {
        continue;
      }
      nodes.put(n.name(), n);
      poolNodes.add(
          new PoolNode(
              n.name(),
              n.provider(),
              n.region(),
              n.zone(),
              n.product(),
              Math.min(gpus, 64),
              n.memoryMiB(),
              n.replicasPerGpu(),
              n.cpuMillis(),
              n.memoryBytes() >> 20,
              p.get().doubleValue(),
              Math.max(0, Math.min(1, reliability.apply(n.provider()))),
              true));
    }
  }

  /**
   * Rate these nodes (node name to share of their claimed speed, from hardware challenges) at the
   * speed measured: the scheduler's speed figures for their GPUs and their price per GPU-hour are
   * scaled by it, as billing scales the price of pods placed there ({@code SpeedRatings}).
   */
  public PoolView rated(Map<String, Double> speedFactors) {
    if (speedFactors.isEmpty()) {
      return this;
    }
    empty = null;
    poolNodes.replaceAll(
        n -> {
          Double f = speedFactors.get(n.name());
          if (f == null || f >= 1) {
            return n;
          }
          PoolNode rated = n.withSpeedFactor(f);
          return new PoolNode(
              rated.name(),
              rated.provider(),
              rated.region(),
              rated.zone(),
              rated.gpuProduct(),
              rated.gpuCount(),
              rated.gpuMemoryMib(),
              rated.sharingReplicas(),
              rated.cpuMillis(),
              rated.memoryMib(),
              rated.pricePerGpuHour() * f,
              rated.reliability(),
              rated.ready(),
              f);
        });
    return this;
  }

  /**
   * Leave these nodes out of placement, node name to reason (a provider's stake short of what
   * placement requires, a node quarantined by a failed hardware challenge); the scheduler counts
   * them per reason when a job cannot be placed.
   */
  public PoolView excluding(Map<String, String> reasonsByNode) {
    this.exclusions = Map.copyOf(reasonsByNode);
    empty = null;
    return this;
  }

  /**
   * Hand the scheduler each offered node's labels ({@code labelsOf} node name to labels), which it
   * reads only for a request's preferred node terms: a view for a template with a preferred node
   * affinity needs them, others need not carry them.
   */
  public PoolView labelled(Function<String, Map<String, String>> labelsOf) {
    Map<String, Map<String, String>> byNode = new HashMap<>();
    for (PoolNode n : poolNodes) {
      byNode.put(n.name(), labelsOf.apply(n.name()));
    }
    this.labels = new NodeLabels(byNode);
    empty = null;
    return this;
  }

  /** Nodes that exist but are not offered, and why (for unplaceable explanations). */
  public List<String> notOffered() {
    return List.copyOf(notOffered);
  }

  public GpuNode gpuNode(String name) {
    return nodes.get(name);
  }

  /**
   * The snapshot with every holding applied. {@code holdings} maps holder to slots by node; slots
   * on nodes not offered are ignored (nothing can be placed there anyway).
   */
  public PoolSnapshot snapshot(Map<String, Map<String, Integer>> holdings) {
    List<Allocation> allocations = new ArrayList<>();
    Map<String, int[]> freeMilli = new HashMap<>();
    holdings.forEach(
        (holder, byNode) ->
            byNode.forEach(
                (node, slots) -> {
                  GpuNode n = nodes.get(node);
                  if (n == null) {
                    return; // not offered: nothing can be placed there anyway
                  }
                  int[] free =
                      freeMilli.computeIfAbsent(
                          node,
                          k -> {
                            int[] f = new int[Math.min(64, gpusOf(n))];
                            Arrays.fill(f, 1000);
                            return f;
                          });
                  allocations.addAll(allocate(holder, node, slots, n.replicasPerGpu(), free));
                }));
    return empty().with(allocations);
  }

  private synchronized PoolSnapshot empty() {
    if (empty == null) {
      PoolSnapshot none = PoolSnapshot.of(poolNodes).withNodeLabels(labels);
      empty = exclusions.isEmpty() ? none : none.excluding(exclusions);
    }
    return empty;
  }

  /** Whole GPUs the node offers: allocatable shares of a shared GPU count as one. */
  private static int gpusOf(GpuNode n) {
    return n.shared()
        ? n.allocatableSlots() / n.replicasPerGpu()
        : Math.min(n.physicalGpus(), n.allocatableSlots());
  }

  /** Slots as allocations, packed onto the lowest GPUs with room; capped at what the node has. */
  private static List<Allocation> allocate(
      String holder, String node, int slots, int replicas, int[] free) {
    List<Allocation> out = new ArrayList<>();
    int slotMilli = 1000 / replicas;
    int left = slots;
    for (int gpu = 0; gpu < free.length && left > 0; gpu++) {
      int take = Math.min(left, free[gpu] / slotMilli);
      if (take <= 0) {
        continue;
      }
      int milli = take * slotMilli;
      free[gpu] -= milli;
      out.add(new Allocation(holder, node, new int[] {gpu}, milli, 0, 0));
      left -= take;
    }
    return out;
  }

  /** The slots a rank takes on its node: whole GPUs, or shares of one shared GPU. */
  public int slots(String node, int gpus, int milliPerGpu) {
    GpuNode n = nodes.get(node);
    int replicas = n == null ? 1 : n.replicasPerGpu();
    if (milliPerGpu >= 1000) {
      return gpus * replicas;
    }
    return gpus * (int) Math.ceil(milliPerGpu * replicas / 1000.0);
  }
}
