package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.NodeState;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Keeps the best {@code keep} candidates of each locality group (the whole pool, each region, each
 * zone) while the filter scans, so a gang can be tried inside one zone, one region or anywhere
 * without sorting the whole pool.
 */
final class LocalityGroups implements Candidate.Sink {
  private static final Comparator<Candidate> WORST_FIRST = Comparator.comparingDouble(c -> -c.key);

  private final int keep;
  private final PoolIndex index;
  private final PoolIndex.NodeMeta[] meta;
  private final PriorityQueue<Candidate>[] heaps;

  @SuppressWarnings("unchecked")
  LocalityGroups(int keep, PoolIndex index, PoolSnapshot snap) {
    this.keep = keep;
    this.index = index;
    this.meta = index.meta(snap);
    this.heaps = new PriorityQueue[index.groupCount()];
  }

  @Override
  public void accept(int i, NodeState state, GpuSpec spec, int capacity, double key) {
    PoolIndex.NodeMeta m = meta[i];
    if (worse(PoolIndex.POOL_GROUP, key) && worse(m.region(), key) && worse(m.zone(), key)) {
      return;
    }
    Candidate c = new Candidate(i, state, spec, capacity, key);
    offer(PoolIndex.POOL_GROUP, c);
    offer(m.region(), c);
    offer(m.zone(), c);
  }

  /** Each non-empty group by name (pool first), its candidates best first. */
  Map<String, List<Candidate>> groups() {
    Map<String, List<Candidate>> out = new LinkedHashMap<>();
    for (int g = 0; g < heaps.length; g++) {
      if (heaps[g] != null) {
        List<Candidate> l = new ArrayList<>(heaps[g]);
        l.sort(Comparator.comparingDouble(c -> c.key));
        out.put(index.groupName(g), l);
      }
    }
    return out;
  }

  /** True when group {@code g} is full of candidates at least as good as {@code key}. */
  private boolean worse(int g, double key) {
    PriorityQueue<Candidate> h = heaps[g];
    return h != null && h.size() >= keep && key >= h.peek().key;
  }

  private void offer(int g, Candidate c) {
    PriorityQueue<Candidate> h = heaps[g];
    if (h == null) {
      h = heaps[g] = new PriorityQueue<>(WORST_FIRST);
    }
    if (h.size() < keep) {
      h.add(c);
    } else if (c.key < h.peek().key) {
      h.poll();
      h.add(c);
    }
  }
}
