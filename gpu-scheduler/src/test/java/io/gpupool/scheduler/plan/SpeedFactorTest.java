package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A node a hardware challenge measured slower than its labels claim is planned at the measured
 * speed: it holds fewer layers, takes a smaller share of the batch, and loses to an equal node at
 * the same price.
 */
class SpeedFactorTest {
  static final String A100 = "NVIDIA-A100-SXM4-80GB";
  final Scheduler scheduler = new Scheduler();

  static PoolNode node(String name, double price) {
    return new PoolNode(
        name, "p-" + name, "eu", "eu-a", A100, 1, 81920, 1, 16000, 65536, price, 0.99, true);
  }

  static int layers(Plan p, String node) {
    RankPlacement r = p.ranks().stream().filter(x -> x.node().equals(node)).findFirst().get();
    return r.lastLayer() - r.firstLayer() + 1;
  }

  static double share(Plan p, String node) {
    return p.ranks().stream().filter(x -> x.node().equals(node)).findFirst().get().batchShare();
  }

  @Test
  void aReRatedPipelineStageHoldsFewerLayers() {
    JobRequest r =
        JobRequest.builder("pp", ModelSpec.of(7_000_000_000L, 32))
            .strategy(Strategy.PIPELINE_PARALLEL)
            .workers(3, 1)
            .build();
    List<PoolNode> nodes = List.of(node("a", 1.2), node("b", 1.2), node("c", 1.2));
    Plan claimed = (Plan) scheduler.plan(r, PoolSnapshot.of(nodes));
    Plan measured =
        (Plan)
            scheduler.plan(
                r,
                PoolSnapshot.of(
                    List.of(nodes.get(0), nodes.get(1).withSpeedFactor(0.4), nodes.get(2))));
    assertThat(layers(claimed, "b")).isBetween(10, 11);
    assertThat(layers(measured, "b")).isLessThan(layers(claimed, "b") - 2);
    assertThat(layers(measured, "a")).isGreaterThan(layers(claimed, "a"));
  }

  @Test
  void aReRatedDataParallelRankTakesASmallerShareOfTheBatch() {
    JobRequest r =
        JobRequest.builder("dp", ModelSpec.of(100_000_000L, 12))
            .strategy(Strategy.DATA_PARALLEL)
            .workers(2, 1)
            .build();
    Plan measured =
        (Plan)
            scheduler.plan(
                r, PoolSnapshot.of(List.of(node("a", 1.0), node("b", 1.0).withSpeedFactor(0.5))));
    assertThat(share(measured, "b")).isLessThan(0.4);
    assertThat(share(measured, "a") + share(measured, "b")).isCloseTo(1.0, within());
  }

  @Test
  void atTheSamePriceTheNodeAtFullSpeedIsChosen() {
    JobRequest r =
        JobRequest.builder("one", ModelSpec.of(100_000_000L, 12))
            .strategy(Strategy.DATA_PARALLEL)
            .workers(1, 1)
            .build();
    for (String slow : List.of("a", "b")) {
      List<PoolNode> nodes =
          List.of(node("a", 1.0), node("b", 1.0)).stream()
              .map(n -> n.name().equals(slow) ? n.withSpeedFactor(0.6) : n)
              .toList();
      Plan p = (Plan) scheduler.plan(r, PoolSnapshot.of(nodes));
      assertThat(p.ranks()).extracting(RankPlacement::node).doesNotContain(slow);
    }
  }

  @Test
  void specsScaleComputeAndBandwidthButNotMemory() {
    GpuSpec a100 = GpuCatalog.defaults().lookup(A100, 81920, null);
    GpuSpec slow = a100.atSpeed(0.5);
    assertThat(slow.denseTflops()).isEqualTo(a100.denseTflops() / 2);
    assertThat(slow.bandwidthGBs()).isEqualTo(a100.bandwidthGBs() / 2);
    assertThat(slow.memoryMib()).isEqualTo(a100.memoryMib());
    assertThat(a100.atSpeed(1.0)).isSameAs(a100);
    assertThatThrownBy(() -> a100.atSpeed(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> node("x", 1).withSpeedFactor(1.5))
        .isInstanceOf(IllegalArgumentException.class);
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }
}
