package io.gpupool.scheduler.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PoolSnapshotTest {
  static PoolNode node(String name, int gpus, int replicas) {
    return new PoolNode(
        name,
        "p",
        "eu",
        "eu-a",
        "NVIDIA-GeForce-RTX-4090",
        gpus,
        24564,
        replicas,
        16000,
        65536,
        0.5,
        0.99,
        true);
  }

  @Test
  void refusesOverAllocation() {
    PoolSnapshot s = PoolSnapshot.of(List.of(node("a", 2, 4)));
    PoolSnapshot s2 = s.with(List.of(new Allocation("j1", "a", new int[] {0}, 600, 0, 0)));
    assertThat(s2.state("a").freeMilli(0)).isEqualTo(400);
    assertThatThrownBy(() -> s2.with(List.of(new Allocation("j2", "a", new int[] {0}, 1000, 0, 0))))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> s2.with(List.of(new Allocation("j2", "a", new int[] {0}, 500, 0, 0))))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(
            () -> s2.with(List.of(new Allocation("j2", "a", new int[] {1}, 1000, 99999, 0))))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void noFractionsOfUnsharedGpus() {
    PoolSnapshot s = PoolSnapshot.of(List.of(node("a", 1, 1)));
    assertThatThrownBy(() -> s.with(List.of(new Allocation("j", "a", new int[] {0}, 500, 0, 0))))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void removingJobsAndNodesFreesCapacity() {
    PoolSnapshot s =
        PoolSnapshot.of(
            List.of(node("a", 2, 1), node("b", 2, 1)),
            List.of(new Allocation("j", "a", new int[] {0, 1}, 1000, 0, 0)));
    assertThat(s.state("a").wholeFree()).isZero();
    assertThat(s.without(java.util.Set.of("j")).state("a").wholeFree()).isEqualTo(2);
    assertThat(s.withoutNodes(java.util.Set.of("a")).size()).isEqualTo(1);
    PoolSnapshot onlyA = s.withoutNodes(java.util.Set.of("b"));
    assertThat(onlyA.nodes()).extracting(PoolNode::name).containsExactly("a");
    assertThat(onlyA.state("a").wholeFree()).as("what is held on a node kept stays").isZero();
    assertThat(onlyA.allocations()).containsExactlyElementsOf(s.allocationsOn("a"));
    assertThat(onlyA.state("b")).isNull();
  }

  @Test
  void replacingANodesAllocationsLeavesTheOtherNodesAsTheyWere() {
    Allocation onA = new Allocation("j", "a", new int[] {0}, 1000, 100, 0);
    Allocation onB = new Allocation("k", "b", new int[] {1}, 1000, 0, 0);
    PoolSnapshot s =
        PoolSnapshot.of(List.of(node("a", 2, 1), node("b", 2, 1)), List.of(onA, onB))
            .excluding(java.util.Map.of("b", "quarantined"));
    Allocation moved = new Allocation("k", "a", new int[] {1}, 1000, 0, 0);
    PoolSnapshot r =
        s.withAllocationsOn(java.util.Map.of("a", List.of(onA, moved), "b", List.of()));
    assertThat(r.state("a").wholeFree()).isZero();
    assertThat(r.state("a").cpuFree()).isEqualTo(16000 - 100);
    assertThat(r.state("b").wholeFree()).isEqualTo(2);
    assertThat(r.allocationsOn("a")).containsExactly(onA, moved);
    assertThat(r.allocationsOn("b")).isEmpty();
    assertThat(r.allocations()).containsExactly(onA, moved);
    assertThat(r.exclusions()).containsKey("b");
    assertThat(s.allocations()).as("the original is unchanged").containsExactly(onA, onB);
    assertThatThrownBy(() -> r.withAllocationsOn(java.util.Map.of("b", List.of(moved, moved))))
        .as("an allocation on another node")
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> r.withAllocationsOn(java.util.Map.of("a", List.of(onA, onA, onA))))
        .isInstanceOf(IllegalStateException.class);
  }
}
