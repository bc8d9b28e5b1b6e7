package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SchedulerTest {
  private final Scheduler scheduler = new Scheduler();

  static PoolNode node(
      String name,
      String product,
      int gpus,
      long memMib,
      String region,
      String zone,
      double price) {
    return new PoolNode(
        name,
        "prov-" + name,
        region,
        zone,
        product,
        gpus,
        memMib,
        1,
        64000,
        262144,
        price,
        0.99,
        true);
  }

  static final ModelSpec SMALL = ModelSpec.of(100_000_000L, 12); // 1.6 GB of Adam state
  static final ModelSpec BIG = ModelSpec.of(7_000_000_000L, 32); // 112 GB of Adam state

  @Test
  void dataParallelSharesBatchByThroughput() {
    PoolSnapshot pool =
        PoolSnapshot.of(
            List.of(
                node("h100", "NVIDIA-H100-80GB-HBM3", 1, 81559, "eu", "eu-a", 2.5),
                node("r3090", "NVIDIA-GeForce-RTX-3090", 1, 24268, "eu", "eu-a", 0.2)));
    JobRequest r =
        JobRequest.builder("dp", SMALL).strategy(Strategy.DATA_PARALLEL).workers(2, 1).build();
    Plan p = (Plan) scheduler.plan(r, pool);
    assertThat(p.strategy()).isEqualTo(Strategy.DATA_PARALLEL);
    RankPlacement h = p.ranks().stream().filter(x -> x.node().equals("h100")).findFirst().get();
    RankPlacement g = p.ranks().stream().filter(x -> x.node().equals("r3090")).findFirst().get();
    assertThat(h.batchShare() / g.batchShare())
        .isCloseTo(989 / 71.0, org.assertj.core.data.Offset.offset(1e-6));
    assertThat(h.batchShare() + g.batchShare())
        .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(p.score())
        .containsKeys("allReduceSeconds", "pricePerHour", "expectedRestartsPerHour");
    assertThat(p.score().get("allReduceSeconds")).isPositive();
    assertThat(p.why().get(0)).contains("DATA_PARALLEL");
    assertThat(p.pricePerHour()).isCloseTo(2.7, org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void autoPicksPipelineWhenTheModelDoesNotFitOneGpu() {
    PoolSnapshot pool =
        PoolSnapshot.of(
            List.of(
                node("a", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu", "eu-a", 1.2),
                node("b", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu", "eu-a", 1.2),
                node("c", "NVIDIA-GeForce-RTX-4090", 1, 24564, "eu", "eu-a", 0.4)));
    JobRequest r = JobRequest.builder("pp", BIG).workers(3, 1).build();
    Plan p = (Plan) scheduler.plan(r, pool);
    assertThat(p.strategy()).isEqualTo(Strategy.PIPELINE_PARALLEL);
    assertThat(p.stages()).isEqualTo(3);
    assertThat(p.ranks().get(0).firstLayer()).isZero();
    assertThat(p.ranks().get(2).lastLayer()).isEqualTo(31);
    // The 24 GiB card holds fewer layers than the 80 GiB cards.
    RankPlacement small = p.ranks().stream().filter(x -> x.node().equals("c")).findFirst().get();
    int smallLayers = small.lastLayer() - small.firstLayer() + 1;
    assertThat(smallLayers).isLessThan(32 / 3);
    assertThat(p.rejected()).anyMatch(s -> s.contains("data parallel needs"));
  }

  @Test
  void unplaceableSaysWhatToChange() {
    PoolSnapshot pool =
        PoolSnapshot.of(
            List.of(
                node("a", "NVIDIA-A100-SXM4-80GB", 2, 81920, "eu-west", "z", 1.5),
                node("b", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu-west", "z", 1.5),
                node("c", "NVIDIA-A100-SXM4-80GB", 8, 81920, "us-east", "z", 1.5),
                node("d", "NVIDIA-GeForce-RTX-4090", 8, 24564, "eu-west", "z", 0.4)));
    JobRequest r =
        JobRequest.builder("big", SMALL)
            .workers(8, 1)
            .minGpuMemoryMib(40 * 1024)
            .regions("eu-west")
            .maxPricePerGpuHour(2.0)
            .build();
    Unplaceable u = (Unplaceable) scheduler.plan(r, pool);
    assertThat(u.reason())
        .isEqualTo("needs 8 GPUs with ≥ 40 GiB in eu-west under 2.00/h; the pool has 3 free");
    assertThat(u.details()).anyMatch(d -> d.contains("excluded by region"));
    assertThat(u.details()).anyMatch(d -> d.contains("excluded by GPU memory"));
  }

  @Test
  void gangIsAllOrNothing() {
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(node("a", "NVIDIA-GeForce-RTX-4090", 4, 24564, "eu", "z", 0.4)));
    JobRequest r = JobRequest.builder("g", SMALL).workers(3, 2).build();
    assertThat(scheduler.plan(r, pool)).isInstanceOf(Unplaceable.class);
  }

  @Test
  void fractionalInferenceReplicasSpreadAcrossProviders() {
    List<PoolNode> nodes =
        List.of(
            new PoolNode(
                "s1",
                "alpha",
                "eu",
                "eu-a",
                "NVIDIA-L4",
                1,
                23034,
                4,
                8000,
                32768,
                0.3,
                0.99,
                true),
            new PoolNode(
                "s2", "beta", "us", "us-a", "NVIDIA-L4", 1, 23034, 4, 8000, 32768, 0.3, 0.99, true),
            new PoolNode(
                "x",
                "alpha",
                "eu",
                "eu-a",
                "NVIDIA-L4",
                1,
                23034,
                1,
                8000,
                32768,
                0.3,
                0.99,
                true));
    JobRequest r =
        JobRequest.builder("inf", ModelSpec.of(1_000_000_000L, 16))
            .kind(JobKind.INFERENCE)
            .workers(2, 1)
            .gpuMilli(250)
            .build();
    Plan p = (Plan) scheduler.plan(r, PoolSnapshot.of(nodes));
    assertThat(p.ranks()).allMatch(x -> x.milliPerGpu() == 250);
    assertThat(p.ranks())
        .extracting(RankPlacement::provider)
        .containsExactlyInAnyOrder("alpha", "beta");
    assertThat(p.ranks()).noneMatch(x -> x.node().equals("x")); // unshared GPUs are never split
  }

  @Test
  void repairReplacesOnlyLostRanks() {
    List<PoolNode> nodes =
        List.of(
            node("a", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu", "z", 1.0),
            node("b", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu", "z", 1.0),
            node("c", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu", "z", 1.1));
    PoolSnapshot pool = PoolSnapshot.of(nodes);
    JobRequest r =
        JobRequest.builder("r", SMALL).strategy(Strategy.DATA_PARALLEL).workers(2, 1).build();
    Plan p = (Plan) scheduler.plan(r, pool);
    assertThat(p.ranks()).extracting(RankPlacement::node).containsExactlyInAnyOrder("a", "b");
    PoolSnapshot now = pool.with(p.allocations());
    Plan fixed = (Plan) scheduler.repair(p, Set.of("a"), now);
    assertThat(fixed.ranks()).extracting(RankPlacement::node).containsExactlyInAnyOrder("b", "c");
    assertThat(fixed.why().get(0))
        .as("names the lost node, the new one and where the others stayed")
        .isEqualTo("Repaired: re-placed 1 rank(s) on lost node a onto c; 1 rank(s) kept on b.");
  }

  @Test
  void repairShrinksWhenMinWorkersAllows() {
    List<PoolNode> nodes =
        List.of(
            node("a", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu", "z", 1.0),
            node("b", "NVIDIA-A100-SXM4-80GB", 1, 81920, "eu", "z", 1.0));
    PoolSnapshot pool = PoolSnapshot.of(nodes);
    JobRequest elastic =
        JobRequest.builder("e", SMALL)
            .strategy(Strategy.DATA_PARALLEL)
            .workers(2, 1)
            .minWorkers(1)
            .build();
    Plan p = (Plan) scheduler.plan(elastic, pool);
    PlanResult res = scheduler.repair(p, Set.of("a"), pool.with(p.allocations()));
    assertThat(res).isInstanceOf(Plan.class);
    Plan shrunk = (Plan) res;
    assertThat(shrunk.ranks()).hasSize(1);
    assertThat(shrunk.why().get(0)).startsWith("Shrunk elastically from 2 to 1");

    JobRequest rigid =
        JobRequest.builder("g", SMALL).strategy(Strategy.DATA_PARALLEL).workers(2, 1).build();
    Plan q = (Plan) scheduler.plan(rigid, pool);
    assertThat(scheduler.repair(q, Set.of("a"), pool.with(q.allocations())))
        .isInstanceOf(Unplaceable.class);
  }

  @Test
  void tensorParallelInsideANodeCountsAllItsGpus() {
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(node("n8", "NVIDIA-GeForce-RTX-4090", 8, 24564, "eu", "z", 0.4)));
    JobRequest r =
        JobRequest.builder("tp", BIG).strategy(Strategy.DATA_PARALLEL).workers(1, 8).build();
    Plan p = (Plan) scheduler.plan(r, pool);
    assertThat(p.ranks().get(0).gpuIndices()).hasSize(8);
  }

  @Test
  void largeInferenceModelsAreShardedIntoReplicaGroups() {
    ModelSpec llama70 = ModelSpec.of(70_000_000_000L, 80); // 140 GB of BF16 weights
    List<PoolNode> nodes =
        List.of(
            node("a100x2", "NVIDIA-A100-SXM4-80GB", 2, 81920, "eu", "eu-a", 1.2),
            node("g1", "NVIDIA-GeForce-RTX-4090", 4, 24564, "eu", "eu-a", 0.4),
            node("g2", "NVIDIA-GeForce-RTX-4090", 4, 24564, "eu", "eu-b", 0.4));
    JobRequest r =
        JobRequest.builder("serve", llama70).kind(JobKind.INFERENCE).workers(2, 1).build();
    Plan p = (Plan) scheduler.plan(r, PoolSnapshot.of(nodes));
    assertThat(p.why().get(0)).startsWith("Sharded inference");
    assertThat(p.ranks().stream().mapToInt(RankPlacement::replica).distinct().count()).isEqualTo(2);
    for (int rep = 0; rep < 2; rep++) {
      int finalRep = rep;
      int gpus =
          p.ranks().stream()
              .filter(x -> x.replica() == finalRep)
              .mapToInt(x -> x.gpuIndices().length)
              .sum();
      assertThat(gpus).isGreaterThanOrEqualTo(2);
    }
    // One replica is tensor-parallel on the A100 node, the other pipelined over the 4090 nodes.
    assertThat(p.ranks()).anyMatch(x -> x.node().equals("a100x2") && x.stage() == 0);
    assertThat(p.ranks()).anyMatch(x -> x.node().equals("g1"));
    assertThat(p.ranks()).anyMatch(x -> x.node().equals("g2"));
    PoolSnapshot.of(nodes).with(p.allocations()); // never over-allocates

    JobRequest three =
        JobRequest.builder("serve3", llama70).kind(JobKind.INFERENCE).workers(3, 1).build();
    assertThat(scheduler.plan(three, PoolSnapshot.of(nodes))).isInstanceOf(Unplaceable.class);
  }
}
