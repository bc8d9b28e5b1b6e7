package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.frag.ModelBits;
import io.gpupool.scheduler.frag.WorkloadMix;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Facts about the pool's nodes that do not change between snapshots of the same node list: each
 * node's catalog figures and locality groups, and the pool-wide mean price per effective TFLOP/s.
 *
 * <p>The operator builds a new node list for every gang it places (under the allocation ledger's
 * lock), almost always with the same nodes as the last one. So a list equal to the one indexed is
 * adopted as it is, and a changed list is indexed again from per-product caches: the catalog lookup
 * and the product name's normalisation run once per distinct product, not once per node, and the
 * workload mix is re-weighted only when the GPUs per model changed.
 */
final class PoolIndex {
  /** Per-node facts: normalised product, catalog figures, region and zone group ids. */
  record NodeMeta(String productKey, GpuSpec spec, int region, int zone) {}

  /** Group id of the whole pool; regions and zones follow. */
  static final int POOL_GROUP = 0;

  private final SchedulerConfig config;
  private final ModelBits bits;
  private final WorkloadMix mix;
  private List<PoolNode> indexedNodes;
  private NodeMeta[] meta;
  private String[] groupNames;
  private Map<String, Integer> groupIds;
  private double meanEffectivePrice = 1;
  private double[] gpusByModel;

  /** A node's catalog figures depend on these only (catalog lookup, then its speed). */
  private record SpecKey(String product, long memoryMib, double speedFactor) {}

  private final Map<SpecKey, GpuSpec> specs = new HashMap<>();
  private final Map<String, String> productKeys = new HashMap<>();
  private int reindexed;

  PoolIndex(SchedulerConfig config, ModelBits bits, WorkloadMix mix) {
    this.config = config;
    this.bits = bits;
    this.mix = mix;
  }

  /** Node facts of {@code snap}, by node index; recomputed only when its node list changed. */
  NodeMeta[] meta(PoolSnapshot snap) {
    List<PoolNode> nodes = snap.nodes();
    if (indexedNodes == nodes) {
      return meta;
    }
    if (indexedNodes != null && indexedNodes.equals(nodes)) {
      indexedNodes = nodes; // the same nodes with the same figures: nothing to recompute
      return meta;
    }
    index(snap);
    return meta;
  }

  /** Forgets the cached facts (after a catalog change). */
  void invalidate() {
    indexedNodes = null;
    gpusByModel = null;
    specs.clear();
  }

  /** How many times the node facts were computed again (a changed node list). */
  int reindexed() {
    return reindexed;
  }

  int groupCount() {
    return groupNames.length;
  }

  String groupName(int id) {
    return groupNames[id];
  }

  /** The group id of a region, or null when no node is in it. */
  Integer regionGroup(String region) {
    return groupIds.get("region " + region);
  }

  /** Mean price per effective TFLOP/s over the pool's GPU nodes (normalises node keys). */
  double meanEffectivePrice() {
    return meanEffectivePrice;
  }

  /** The node's GPU model bit (for model-constrained task classes). */
  long modelBit(PoolNode n) {
    return bits.bit(productKey(n));
  }

  /** The normalised product of {@code n}, computed once per product spelling. */
  String productKey(PoolNode n) {
    return productKeys.computeIfAbsent(
        n.gpuProduct(), p -> GpuCatalog.normalize(p).toLowerCase(Locale.ROOT));
  }

  /** Price per effective TFLOP-hour; 1 / TFLOPs when the node is free of charge. */
  double effectivePrice(PoolNode n, GpuSpec spec) {
    double tflops = spec.denseTflops() * config.mfu();
    return n.pricePerGpuHour() > 0 ? n.pricePerGpuHour() / tflops : 1.0 / tflops;
  }

  private void index(PoolSnapshot snap) {
    Map<String, Integer> ids = new HashMap<>();
    List<String> names = new ArrayList<>();
    names.add("pool");
    ids.put("pool", POOL_GROUP);
    NodeMeta[] m = new NodeMeta[snap.size()];
    for (int i = 0; i < m.length; i++) {
      PoolNode n = snap.nodes().get(i);
      int rid = groupId(ids, names, "region " + n.region());
      int zid = groupId(ids, names, "zone " + n.region() + "/" + n.zone());
      GpuSpec spec =
          specs.computeIfAbsent(
              new SpecKey(n.gpuProduct(), n.gpuMemoryMib(), n.speedFactor()),
              k ->
                  config
                      .catalog()
                      .lookup(k.product(), k.memoryMib(), null)
                      .atSpeed(k.speedFactor()));
      m[i] = new NodeMeta(productKey(n), spec, rid, zid);
    }
    double sum = 0;
    int cnt = 0;
    for (int i = 0; i < m.length; i++) {
      PoolNode n = snap.nodes().get(i);
      if (n.gpuCount() > 0) {
        sum += effectivePrice(n, m[i].spec());
        cnt++;
      }
    }
    meanEffectivePrice = cnt == 0 || sum == 0 ? 1 : sum / cnt;
    scaleConstrainedClasses(snap);
    meta = m;
    groupIds = ids;
    groupNames = names.toArray(new String[0]);
    indexedNodes = snap.nodes();
    reindexed++;
  }

  private static int groupId(Map<String, Integer> ids, List<String> names, String key) {
    return ids.computeIfAbsent(
        key,
        k -> {
          names.add(k);
          return names.size() - 1;
        });
  }

  /**
   * A class restricted to some GPU models concentrates its fragmentation on their nodes, so the mix
   * weighs it by √(pool GPUs / GPUs it accepts).
   */
  private void scaleConstrainedClasses(PoolSnapshot snap) {
    double[] byModel = new double[64];
    double allGpus = 0;
    for (PoolNode n : snap.nodes()) {
      byModel[Long.numberOfTrailingZeros(modelBit(n))] += n.gpuCount();
      allGpus += n.gpuCount();
    }
    if (Arrays.equals(byModel, gpusByModel)) {
      return; // the same GPUs per model: the weights stand (re-weighting recomputes the mix)
    }
    gpusByModel = byModel;
    double pool = allGpus;
    mix.constrainedScale(
        mask -> {
          double accepted = 0;
          for (int b = 0; b < 64; b++) {
            if ((mask & (1L << b)) != 0) {
              accepted += byModel[b];
            }
          }
          return accepted == 0 ? 1 : Math.sqrt(pool / accepted);
        });
  }
}
