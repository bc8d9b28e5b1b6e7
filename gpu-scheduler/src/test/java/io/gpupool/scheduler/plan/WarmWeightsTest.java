package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.CachedWeights;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.ModelWeights;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The warm-node term: nodes whose cache holds a replica's weights win when price and fit are
 * comparable, by a margin that grows with the weights' size, and never past a filter.
 */
class WarmWeightsTest {
  private static final String A100 = "NVIDIA-A100-SXM4-80GB";
  private static final ModelSpec M13B = ModelSpec.of(13_000_000_000L, 40);
  private static final ModelSpec M1B = ModelSpec.of(1_000_000_000L, 16);
  private static final ModelWeights W13B = new ModelWeights("sha256-13b", 26_000_000_000L);
  private static final ModelWeights W1B = new ModelWeights("sha256-1b", 2_000_000_000L);

  private static PoolNode a100(String name, double price) {
    return SchedulerTest.node(name, A100, 1, 81920, "eu", "eu-a", price);
  }

  private static JobRequest replicas(ModelSpec model, ModelWeights weights, int n) {
    return JobRequest.builder("serve", model)
        .kind(JobKind.INFERENCE)
        .workers(n, 1)
        .weights(weights)
        .build();
  }

  private static CachedWeights warm(String node, ModelWeights w) {
    return new CachedWeights(Map.of(node, Map.of(w.digest(), w.bytes())));
  }

  private static Set<String> nodesOf(PlanResult r) {
    assertThat(r).isInstanceOf(Plan.class);
    Set<String> out = new java.util.HashSet<>();
    ((Plan) r).ranks().forEach(x -> out.add(x.node()));
    return out;
  }

  @Test
  void equalNodesTheWarmOneWinsWhicheverTheColdChoiceWas() {
    PoolSnapshot pool = PoolSnapshot.of(List.of(a100("a", 1.0), a100("b", 1.0)));
    String cold = nodesOf(new Scheduler().plan(replicas(M13B, W13B, 1), pool)).iterator().next();
    String other = cold.equals("a") ? "b" : "a";
    PlanResult r =
        new Scheduler().plan(replicas(M13B, W13B, 1), pool.withCachedWeights(warm(other, W13B)));
    assertThat(nodesOf(r)).containsExactly(other);
    assertThat(((Plan) r).score()).containsEntry("warmWorkers", 1.0);
  }

  @Test
  void aSomewhatDearerWarmNodeWinsForLargeWeightsButNotForSmallOnes() {
    PoolSnapshot pool = PoolSnapshot.of(List.of(a100("cheap", 1.0), a100("warm", 1.05)));
    assertThat(nodesOf(new Scheduler().plan(replicas(M13B, W13B, 1), pool)))
        .as("cold pool: price decides")
        .containsExactly("cheap");
    // 26 GB: the term is 0.25 * 24.2 / 34.2 = 0.18 of price per performance, above the 5 %.
    assertThat(
            nodesOf(
                new Scheduler()
                    .plan(replicas(M13B, W13B, 1), pool.withCachedWeights(warm("warm", W13B)))))
        .containsExactly("warm");
    // 2 GB: 0.25 * 1.86 / 11.86 = 0.04, below the 5 %: a small pull does not justify the price.
    assertThat(
            nodesOf(
                new Scheduler()
                    .plan(replicas(M1B, W1B, 1), pool.withCachedWeights(warm("warm", W1B)))))
        .containsExactly("cheap");
  }

  @Test
  void aMuchDearerWarmNodeLoses() {
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(a100("cheap", 1.0), a100("warm", 1.5)))
            .withCachedWeights(warm("warm", W13B));
    assertThat(nodesOf(new Scheduler().plan(replicas(M13B, W13B, 1), pool)))
        .containsExactly("cheap");
  }

  @Test
  void theWarmNodeNeverPassesAPriceCapAProductFilterOrAFullNode() {
    PoolSnapshot pool =
        PoolSnapshot.of(
                List.of(
                    a100("cheap", 1.0),
                    a100("warm", 1.0),
                    SchedulerTest.node(
                        "warm4090", "NVIDIA-GeForce-RTX-4090", 1, 24564, "eu", "eu-a", 0.3)))
            .withCachedWeights(
                new CachedWeights(
                    Map.of(
                        "warm", Map.of(W1B.digest(), W1B.bytes()),
                        "warm4090", Map.of(W1B.digest(), W1B.bytes()))));
    JobRequest capped =
        JobRequest.builder("serve", M1B)
            .kind(JobKind.INFERENCE)
            .workers(1, 1)
            .weights(W1B)
            .products(A100)
            .maxPricePerGpuHour(0.99)
            .build();
    assertThat(new Scheduler().plan(capped, pool.withoutNodes(Set.of("cheap"))))
        .as("the only A100 left is warm but above the cap")
        .isInstanceOf(Unplaceable.class);
    JobRequest a100Only =
        JobRequest.builder("serve", M1B)
            .kind(JobKind.INFERENCE)
            .workers(1, 1)
            .weights(W1B)
            .products(A100)
            .build();
    assertThat(nodesOf(new Scheduler().plan(a100Only, pool))).doesNotContain("warm4090");
    // The warm A100 is taken by another job: the replica goes to the cold one.
    PoolSnapshot full =
        pool.with(
            List.of(
                new io.gpupool.scheduler.model.Allocation(
                    "other", "warm", new int[] {0}, 1000, 0, 0)));
    assertThat(nodesOf(new Scheduler().plan(a100Only, full))).containsExactly("cheap");
  }

  @Test
  void aGangOfReplicasTakesTheWarmNodeForOneAndPlacesTheRestAllOrNothing() {
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(a100("a", 1.0), a100("b", 1.0), a100("c", 1.0)))
            .withCachedWeights(warm("c", W13B));
    Set<String> nodes = nodesOf(new Scheduler().plan(replicas(M13B, W13B, 2), pool));
    assertThat(nodes).hasSize(2).contains("c");
    assertThat(new Scheduler().plan(replicas(M13B, W13B, 4), pool))
        .as("gang: four replicas do not fit three GPUs, warm or not")
        .isInstanceOf(Unplaceable.class);
  }

  @Test
  void otherWeightsOnTheNodeOrATermOfZeroChangeNothing() {
    PoolSnapshot pool = PoolSnapshot.of(List.of(a100("cheap", 1.0), a100("warm", 1.05)));
    assertThat(
            nodesOf(
                new Scheduler()
                    .plan(replicas(M13B, W13B, 1), pool.withCachedWeights(warm("warm", W1B)))))
        .as("the node holds another model")
        .containsExactly("cheap");
    Scheduler off = new Scheduler(SchedulerConfig.defaults().withWarmWeightsWeight(0));
    assertThat(
            nodesOf(off.plan(replicas(M13B, W13B, 1), pool.withCachedWeights(warm("warm", W13B)))))
        .containsExactly("cheap");
  }

  @Test
  void theTermGrowsWithTheWeightsSizeAndIsBoundedByItsWeight() {
    SchedulerConfig c = SchedulerConfig.defaults();
    CachedWeights cache =
        new CachedWeights(
            Map.of("n", Map.of("big", 140_000_000_000L, "mid", 10L << 30, "small", 1L << 30)));
    double big =
        WarmWeights.of(c, replicas(M1B, new ModelWeights("big", 140_000_000_000L), 1), cache, "n");
    double mid =
        WarmWeights.of(c, replicas(M1B, new ModelWeights("mid", 10L << 30), 1), cache, "n");
    double small =
        WarmWeights.of(c, replicas(M1B, new ModelWeights("small", 1L << 30), 1), cache, "n");
    assertThat(mid).isEqualTo(0.125);
    assertThat(small).isLessThan(mid).isPositive();
    assertThat(big).isGreaterThan(mid).isLessThan(0.25);
    assertThat(WarmWeights.of(c, replicas(M1B, null, 1), cache, "n")).isZero();
    assertThat(WarmWeights.of(c, replicas(M1B, W1B, 1), cache, "elsewhere")).isZero();
  }

  @Test
  void theSnapshotKeepsTheCacheThroughAllocationsAndNodeRemoval() {
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(a100("a", 1.0), a100("b", 1.0))).withCachedWeights(warm("b", W1B));
    var alloc = new io.gpupool.scheduler.model.Allocation("j", "a", new int[] {0}, 1000, 0, 0);
    assertThat(pool.with(List.of(alloc)).cachedWeights().holds("b", W1B.digest())).isTrue();
    assertThat(
            pool.with(List.of(alloc)).without(Set.of("j")).cachedWeights().holds("b", "sha256-1b"))
        .isTrue();
    assertThat(pool.withoutNodes(Set.of("a")).cachedWeights().holds("b", "sha256-1b")).isTrue();
    assertThat(PoolSnapshot.of(List.of(a100("a", 1.0))).cachedWeights())
        .isEqualTo(CachedWeights.NONE);
  }
}
