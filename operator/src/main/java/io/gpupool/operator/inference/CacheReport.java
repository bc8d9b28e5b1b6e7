package io.gpupool.operator.inference;

import io.gpupool.api.v1alpha1.CacheCounts;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Counts weights cache hits and misses into status.cache, each pod once: a shard counts when its
 * outcome first shows in status, so the count survives operator restarts (it lives in status)
 * without counting a pod twice. Pure.
 */
final class CacheReport {
  /** What this reconcile added. */
  record Counted(int hits, int misses) {}

  private CacheReport() {}

  /** Adds the shards of {@code status.replicas} whose outcome {@code before} did not have. */
  static Counted count(InferenceJobStatus status, List<ReplicaStatus> before, boolean weights) {
    if (!weights) {
      status.cache = null;
      return new Counted(0, 0);
    }
    Set<String> known = new HashSet<>();
    if (before != null) {
      for (ReplicaStatus r : before) {
        for (ShardPlacement sp : r.shards == null ? List.<ShardPlacement>of() : r.shards) {
          if (counted(sp)) {
            known.add(sp.pod);
          }
        }
      }
    }
    int hits = 0;
    int misses = 0;
    for (ReplicaStatus r : status.replicas) {
      for (ShardPlacement sp : r.shards) {
        if (counted(sp) && !known.contains(sp.pod)) {
          if (ModelCache.HIT.equals(sp.cache)) {
            hits++;
          } else {
            misses++;
          }
        }
      }
    }
    CacheCounts c = status.cache == null ? new CacheCounts() : status.cache;
    c.hits = (c.hits == null ? 0 : c.hits) + hits;
    c.misses = (c.misses == null ? 0 : c.misses) + misses;
    status.cache = c;
    return new Counted(hits, misses);
  }

  private static boolean counted(ShardPlacement sp) {
    return ModelCache.HIT.equals(sp.cache) || ModelCache.MISS.equals(sp.cache);
  }
}
