package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ReplicaStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** status.cache counts each pod's fetch once, across reconciles and operator restarts. */
class CacheReportTest {
  private static ReplicaStatus replica(String... podAndCache) {
    ReplicaStatus r = new ReplicaStatus();
    r.shards = new ArrayList<>();
    for (int i = 0; i < podAndCache.length; i += 2) {
      ShardPlacement sp = new ShardPlacement();
      sp.pod = podAndCache[i];
      sp.cache = podAndCache[i + 1];
      r.shards.add(sp);
    }
    return r;
  }

  @Test
  void eachPodCountsOnceWhenItsOutcomeFirstShows() {
    InferenceJobStatus status = new InferenceJobStatus();
    status.replicas = List.of(replica("a", ModelCache.MISS), replica("b", ModelCache.PULLING));
    assertThat(CacheReport.count(status, null, true)).isEqualTo(new CacheReport.Counted(0, 1));
    List<ReplicaStatus> before = status.replicas;
    status.replicas = List.of(replica("a", ModelCache.MISS), replica("b", ModelCache.HIT));
    assertThat(CacheReport.count(status, before, true)).isEqualTo(new CacheReport.Counted(1, 0));
    before = status.replicas;
    status.replicas = List.of(replica("a", ModelCache.MISS), replica("b", ModelCache.HIT));
    assertThat(CacheReport.count(status, before, true)).isEqualTo(new CacheReport.Counted(0, 0));
    assertThat(status.cache.hits).isEqualTo(1);
    assertThat(status.cache.misses).isEqualTo(1);
    // b was replaced by c, which found the weights too; a "Fetched" pod is not counted.
    before = status.replicas;
    status.replicas =
        List.of(
            replica("a", ModelCache.MISS), replica("c", ModelCache.HIT, "d", ModelCache.FETCHED));
    CacheReport.count(status, before, true);
    assertThat(status.cache.hits).isEqualTo(2);
    assertThat(status.cache.misses).isEqualTo(1);
  }

  @Test
  void withoutWeightsThereIsNoCacheStatus() {
    InferenceJobStatus status = new InferenceJobStatus();
    status.replicas = List.of(replica("a", null));
    CacheReport.count(status, null, false);
    assertThat(status.cache).isNull();
  }
}
