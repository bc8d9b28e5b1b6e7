package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.scheduler.model.CachedWeights;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What the operator learns about nodes' weights caches, and when it forgets. */
class WeightsCacheBookTest {
  private static final ModelCache.Settings SETTINGS = ModelCache.Settings.DEFAULT;
  private static final String DIGEST = ModelCache.digest(ModelCacheTest.URI);

  private static Pod pod(boolean cached, String node) {
    return InferenceGroup.pods(
            ModelCacheTest.job(ModelCacheTest.weights(cached)),
            List.of(ModelCacheTest.shard(node)),
            "g",
            "h",
            SETTINGS)
        .get(0);
  }

  @Test
  void aFinishedFetchMakesItsNodeWarmAndAPullingOneDoesNot() {
    WeightsCacheBook book = new WeightsCacheBook();
    book.learn(
        List.of(
            ModelCacheTest.withFetch(pod(true, "n1"), "Running", 0, "Miss"),
            ModelCacheTest.withFetch(pod(true, "n2"), "Pending", null, null),
            ModelCacheTest.withFetch(pod(false, "n3"), "Running", 0, "Miss"),
            ModelCacheTest.withFetch(pod(true, "n4"), "Failed", 1, "error")));
    CachedWeights cached = book.cached(Set.of("n1", "n2", "n3", "n4"));
    assertThat(cached.holds("n1", DIGEST)).isTrue();
    assertThat(cached.on("n1")).containsEntry(DIGEST, 26L << 30);
    assertThat(cached.holds("n2", DIGEST)).as("still pulling").isFalse();
    assertThat(cached.holds("n3", DIGEST)).as("an emptyDir goes with its pod").isFalse();
    assertThat(cached.holds("n4", DIGEST)).as("the fetch failed").isFalse();
  }

  @Test
  void theNodeStaysWarmAfterItsPodIsGoneAndIsForgottenWhenTheNodeLeaves() {
    WeightsCacheBook book = new WeightsCacheBook();
    book.learn(List.of(ModelCacheTest.withFetch(pod(true, "n1"), "Running", 0, "Miss")));
    book.learn(List.of());
    assertThat(book.cached(Set.of("n1")).holds("n1", DIGEST)).isTrue();
    assertThat(book.cached(Set.of("n2")).byNode()).as("only nodes in the pool").isEmpty();
    book.forgetNode("n1");
    assertThat(book.cached(Set.of("n1"))).isEqualTo(CachedWeights.NONE);
  }
}
