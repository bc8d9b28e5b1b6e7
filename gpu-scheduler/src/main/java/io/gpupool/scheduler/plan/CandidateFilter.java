package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.NodeState;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The one pass over the pool: drops nodes the request excludes (readiness, product, memory, region,
 * price, reliability, room), counting each reason in a {@link Census}, and keys the rest by price
 * per effective TFLOP/s (normalised by the pool mean) plus a reliability penalty, less the
 * warm-weights term and, far larger, the request's preferred weight of the node ({@link
 * PreferredNodes}).
 */
final class CandidateFilter {
  private final SchedulerConfig config;
  private final PoolIndex index;

  CandidateFilter(SchedulerConfig config, PoolIndex index) {
    this.config = config;
    this.index = index;
  }

  /** Eligible nodes as a list, in pool order. */
  List<Candidate> list(JobRequest r, PoolSnapshot snap, Census census, Set<String> excludeNodes) {
    List<Candidate> out = new ArrayList<>();
    scan(
        r,
        snap,
        census,
        excludeNodes,
        (i, st, spec, cap, key) -> out.add(new Candidate(i, st, spec, cap, key)));
    return out;
  }

  /** Hands every eligible node with its key (lower is better) to {@code sink}. */
  void scan(
      JobRequest r,
      PoolSnapshot snap,
      Census census,
      Set<String> excludeNodes,
      Candidate.Sink sink) {
    Set<String> products = normalizedProducts(r);
    PoolIndex.NodeMeta[] meta = index.meta(snap);
    boolean[] allowedRegion = null;
    if (!r.allowedRegions().isEmpty()) {
      allowedRegion = new boolean[index.groupCount()];
      for (String reg : r.allowedRegions()) {
        Integer id = index.regionGroup(reg);
        if (id != null) {
          allowedRegion[id] = true;
        }
      }
    }
    double mean = index.meanEffectivePrice();
    for (int i = 0; i < snap.size(); i++) {
      NodeState st = snap.state(i);
      PoolNode n = st.node();
      census.nodes++;
      if (n.gpuCount() == 0 || (!excludeNodes.isEmpty() && excludeNodes.contains(n.name()))) {
        continue;
      }
      String exclusion = snap.exclusion(i);
      if (exclusion != null) {
        census.excluded.merge(exclusion, 1, Integer::sum);
        continue;
      }
      if (!n.ready()) {
        census.notReady++;
        continue;
      }
      if (!products.isEmpty() && !products.contains(meta[i].productKey())) {
        census.product++;
        continue;
      }
      if (n.gpuMemoryMib() < r.minGpuMemoryMib()) {
        census.memory++;
        continue;
      }
      if (allowedRegion != null && !allowedRegion[meta[i].region()]) {
        census.region++;
        continue;
      }
      if (n.pricePerGpuHour() > r.maxPricePerGpuHour()) {
        census.price++;
        continue;
      }
      if (n.reliability() < r.minReliability()) {
        census.reliability++;
        continue;
      }
      census.eligibleGpusTotal += n.gpuCount();
      int cap = capacity(st, r);
      if (cap == 0) {
        if (st.cpuFree() < r.cpuMillisPerWorker() || st.memoryFree() < r.memoryMibPerWorker()) {
          census.cpuOrMemory++;
        }
        continue;
      }
      census.freeWorkers += cap;
      GpuSpec spec = meta[i].spec();
      double key =
          index.effectivePrice(n, spec) / mean
              + config.reliabilityWeight() * (1 - n.reliability())
              - WarmWeights.of(config, r, snap.cachedWeights(), n.name())
              - PreferredNodes.KEY_STEP * PreferredNodes.weight(r, snap, n);
      sink.accept(i, st, spec, cap, key);
    }
  }

  /** The request's allowed products, normalised as the catalog spells them. */
  static Set<String> normalizedProducts(JobRequest r) {
    Set<String> s = new HashSet<>();
    for (String p : r.allowedProducts()) {
      s.add(GpuCatalog.normalize(p).toLowerCase(Locale.ROOT));
    }
    return s;
  }

  /** Workers of the request that fit on this node state, placed one after another (at most 64). */
  static int capacity(NodeState st, JobRequest r) {
    int k = r.gpusPerWorker();
    int m = r.gpuMilli();
    long cpu = r.cpuMillisPerWorker();
    long mem = r.memoryMibPerWorker();
    long byCpu = cpu == 0 ? Long.MAX_VALUE : st.cpuFree() / cpu;
    long byMem = mem == 0 ? Long.MAX_VALUE : st.memoryFree() / mem;
    long byGpu;
    if (m == 1000) {
      byGpu = st.wholeFree() / k;
    } else {
      if (!st.node().shared()) {
        return 0;
      }
      byGpu = 0;
      for (int g = 0; g < st.node().gpuCount(); g++) {
        byGpu += st.freeMilli(g) / m;
      }
    }
    return (int) Math.min(Math.min(byCpu, byMem), Math.min(byGpu, 64));
  }
}
