package io.gpupool.operator.pool;

import io.gpupool.operator.allocation.NodeHoldings;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Translates the cluster's pool (GPU nodes, provider prices and reliability, GPU slots held) into
 * the scheduler's {@link PoolSnapshot}. Pure but for the snapshot of every holding it keeps between
 * placements ({@link #snapshot(NodeHoldings, Map)}).
 *
 * <p>Slots are device-plugin units: a whole GPU on an unshared node, one time-slice or MPS share on
 * a shared one. Holdings become allocations on the lowest free GPU indices, node by node, holders
 * in key order; the device plugin picks real devices, so indices only need to add up, not to match.
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
   * Every holding of {@link #laidOutFrom} laid out on this view's nodes as of its journal position
   * {@link #laidOutAt}; moved on by the nodes that changed since, so a placement does not lay out
   * (or copy) every holding in the pool.
   */
  private PoolSnapshot laidOut;

  private NodeHoldings laidOutFrom;
  private long laidOutAt;

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
    forgetSnapshots();
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
    forgetSnapshots();
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
    forgetSnapshots();
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
    Map<String, Map<String, Integer>> byNode = new HashMap<>();
    holdings.forEach(
        (holder, slots) ->
            slots.forEach(
                (node, n) -> {
                  if (nodes.containsKey(node)) {
                    byNode.computeIfAbsent(node, k -> new HashMap<>()).put(holder, n);
                  }
                }));
    Map<String, List<Allocation>> laid = new HashMap<>();
    byNode.forEach((node, there) -> laid.put(node, layOut(node, there)));
    return empty().withAllocationsOn(laid);
  }

  /**
   * The snapshot with every holding in {@code held} applied, but for the holders in {@code
   * replaced}, whose holdings are the ones given there (an empty map leaves a holder out: a job
   * planned without what it holds itself). The same snapshot as {@link #snapshot(Map)} of the
   * ledger's holdings with those replaced; it costs the nodes that changed since the last call and
   * the replaced holders' nodes, not every holding. Call inside the ledger's {@code decide}.
   */
  public PoolSnapshot snapshot(NodeHoldings held, Map<String, Map<String, Integer>> replaced) {
    PoolSnapshot all = laidOut(held);
    if (replaced.isEmpty()) {
      return all;
    }
    Set<String> touched = new HashSet<>();
    replaced.forEach(
        (holder, slots) -> {
          touched.addAll(held.of(holder).keySet());
          touched.addAll(slots.keySet());
        });
    Map<String, List<Allocation>> laid = new HashMap<>();
    for (String node : touched) {
      if (!nodes.containsKey(node)) {
        continue;
      }
      Map<String, Integer> there = new HashMap<>(held.on(node));
      replaced.forEach(
          (holder, slots) -> {
            there.remove(holder);
            Integer n = slots.get(node);
            if (n != null && n > 0) {
              there.put(holder, n);
            }
          });
      laid.put(node, layOut(node, there));
    }
    return all.withAllocationsOn(laid);
  }

  /** Every holding in {@code held} laid out, moved on from the last call by what changed since. */
  private synchronized PoolSnapshot laidOut(NodeHoldings held) {
    Set<String> changed =
        laidOut == null || laidOutFrom != held ? null : held.changedSince(laidOutAt);
    PoolSnapshot from = laidOut;
    if (changed == null) {
      changed = held.nodes();
      from = empty();
    }
    Map<String, List<Allocation>> laid = new HashMap<>();
    for (String node : changed) {
      if (nodes.containsKey(node)) {
        laid.put(node, layOut(node, held.on(node)));
      }
    }
    laidOut = from.withAllocationsOn(laid);
    laidOutFrom = held;
    laidOutAt = held.cursor();
    return laidOut;
  }

  /** The allocations of what each holder holds on {@code node} (holder to slots). */
  private List<Allocation> layOut(String node, Map<String, Integer> slotsByHolder) {
    GpuNode n = nodes.get(node);
    int[] free = new int[Math.min(64, gpusOf(n))];
    Arrays.fill(free, 1000);
    List<Allocation> out = new ArrayList<>();
    new TreeMap<>(slotsByHolder)
        .forEach(
            (holder, slots) -> out.addAll(allocate(holder, node, slots, n.replicasPerGpu(), free)));
    return out;
  }

  /** The node list, exclusions or labels changed: snapshots made before are out of date. */
  private synchronized void forgetSnapshots() {
    empty = null;
    laidOut = null;
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
