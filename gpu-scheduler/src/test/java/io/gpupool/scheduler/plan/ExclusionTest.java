package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Nodes the operator leaves out for a reason of its own (stake, quarantine) are never planned. */
class ExclusionTest {
  static final String STAKE = "provider cheap-co stakes 0 of the 2 required for its 1 GPU(s)";

  static PoolNode node(String name, String provider, double price) {
    return new PoolNode(
        name,
        provider,
        "eu",
        "eu-a",
        "NVIDIA-A100-SXM4-80GB",
        1,
        81920,
        1,
        16000,
        65536,
        price,
        0.99,
        true);
  }

  final PoolSnapshot pool =
      PoolSnapshot.of(List.of(node("cheap", "cheap-co", 0.1), node("dear", "dear-co", 3.0)))
          .excluding(Map.of("cheap", STAKE));

  @Test
  void anExcludedNodeIsNotUsedEvenWhenItIsTheCheapest() {
    JobRequest r = JobRequest.builder("one", ModelSpec.of(300_000_000L, 24)).workers(1, 1).build();
    Plan p = (Plan) new Scheduler().plan(r, pool);
    assertThat(p.ranks()).extracting(RankPlacement::node).containsExactly("dear");
  }

  @Test
  void anUnplaceableJobNamesTheExclusionReason() {
    JobRequest r = JobRequest.builder("two", ModelSpec.of(300_000_000L, 24)).workers(2, 2).build();
    Unplaceable u = (Unplaceable) new Scheduler().plan(r, pool);
    assertThat(u.details()).contains("1 nodes excluded: " + STAKE);
  }

  @Test
  void exclusionsSurviveAllocationsAndRemovals() {
    PoolSnapshot without = pool.without(Set.of("nobody")).withoutNodes(Set.of("dear"));
    assertThat(without.exclusions()).containsEntry("cheap", STAKE);
    assertThat(without.exclusion(0)).isEqualTo(STAKE);
    assertThat(pool.excluding(Map.of()).exclusion(0)).isNull();
  }
}
