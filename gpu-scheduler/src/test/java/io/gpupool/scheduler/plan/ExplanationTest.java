package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExplanationTest {
  static PoolNode node(String name, String region, String zone, String product, double price) {
    return new PoolNode(
        name, "p-" + name, region, zone, product, 1, 81920, 1, 16000, 65536, price, 0.99, true);
  }

  @Test
  void planSaysWhatWasChosenWhyAndWhatLost() {
    PoolSnapshot pool =
        PoolSnapshot.of(
            List.of(
                node("eu1", "eu", "eu-a", "NVIDIA-A100-SXM4-80GB", 1.0),
                node("eu2", "eu", "eu-a", "NVIDIA-A100-SXM4-80GB", 1.0),
                node("us1", "us", "us-a", "NVIDIA-H100-80GB-HBM3", 2.0)));
    JobRequest r = JobRequest.builder("exp", ModelSpec.of(300_000_000L, 24)).workers(2, 1).build();
    Plan p = (Plan) new Scheduler().plan(r, pool);
    // The two nodes of one zone beat spreading the gang over regions (100 Mb/s between them).
    assertThat(p.ranks()).extracting(RankPlacement::zone).containsOnly("eu-a");
    String text = p.explanation();
    assertThat(text).contains("over 2 worker(s) in region eu").contains("samples/s").contains("/h");
    assertThat(text).contains("Objective: goodput");
    assertThat(p.rejected()).isNotEmpty();
    assertThat(p.rejected()).anyMatch(s -> s.contains("on pool"));
    assertThat(p.rejected())
        .anyMatch(s -> s.contains("lower throughput per cost") || s.contains("bound below"));
    assertThat(text).contains("Rejected:");
  }

  @Test
  void pipelineOnlyRequestSaysWhyDataParallelWasNotUsed() {
    PoolSnapshot pool =
        PoolSnapshot.of(
            List.of(
                node("a", "eu", "eu-a", "NVIDIA-A100-SXM4-80GB", 1.0),
                node("b", "eu", "eu-a", "NVIDIA-A100-SXM4-80GB", 1.0)));
    JobRequest r =
        JobRequest.builder("pp", ModelSpec.of(7_000_000_000L, 32))
            .strategy(Strategy.PIPELINE_PARALLEL)
            .workers(2, 1)
            .build();
    Plan p = (Plan) new Scheduler().plan(r, pool);
    assertThat(p.strategy()).isEqualTo(Strategy.PIPELINE_PARALLEL);
    assertThat(p.why().get(0)).startsWith("PIPELINE_PARALLEL over 2 worker(s)");
    assertThat(p.score()).containsKey("bottleneckStageSeconds");
  }

  @Test
  void unplaceableListsEveryFilterThatRemovedNodes() {
    PoolSnapshot pool =
        PoolSnapshot.of(
            List.of(
                node("cheap", "eu", "eu-a", "NVIDIA-GeForce-RTX-4090", 0.3),
                node("far", "ap", "ap-a", "NVIDIA-H100-80GB-HBM3", 2.5),
                new PoolNode(
                    "down",
                    "p",
                    "eu",
                    "eu-a",
                    "NVIDIA-H100-80GB-HBM3",
                    1,
                    81559,
                    1,
                    16000,
                    65536,
                    2.0,
                    0.99,
                    false)));
    JobRequest r =
        JobRequest.builder("u", ModelSpec.of(1_000_000_000L, 16))
            .workers(2, 1)
            .products("NVIDIA-H100-80GB-HBM3")
            .regions("eu")
            .minReliability(0.95)
            .build();
    Unplaceable u = (Unplaceable) new Scheduler().plan(r, pool);
    assertThat(u.reason())
        .isEqualTo(
            "needs 2 GPUs of NVIDIA-H100-80GB-HBM3 in eu with reliability ≥ 0.95; the pool has 0 free");
    assertThat(u.details())
        .contains(
            "3 nodes in the pool",
            "1 nodes not ready",
            "1 nodes excluded by GPU product",
            "1 nodes excluded by region");
  }
}
