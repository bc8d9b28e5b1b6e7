package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.frag.ModelBits;
import io.gpupool.scheduler.frag.TaskClass;
import io.gpupool.scheduler.frag.WorkloadMix;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The node index is not rebuilt for every gang: the operator hands the scheduler a new node list
 * per placement (issue #16: at 5,000 nodes the rebuild, under the allocation ledger's lock, set the
 * pace of bench-queues), so a list with the same nodes must reuse what was computed, and a changed
 * list must give exactly what a fresh index gives.
 */
class PoolIndexTest {
  static final String[] PRODUCTS = {
    "NVIDIA-GeForce-RTX-4090", "NVIDIA-RTX-A6000", "NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3"
  };

  final SchedulerConfig config = SchedulerConfig.defaults();

  static PoolNode node(int i, Random r) {
    String region = "region-" + r.nextInt(4);
    return new PoolNode(
        "node-" + i,
        "provider-" + r.nextInt(40),
        region,
        region + "-" + (char) ('a' + r.nextInt(3)),
        PRODUCTS[r.nextInt(PRODUCTS.length)],
        1 << r.nextInt(4),
        81920,
        1,
        64000,
        262144,
        0.5 + r.nextInt(40) / 10.0,
        0.99,
        true);
  }

  static List<PoolNode> pool(int size, Random r) {
    List<PoolNode> nodes = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      nodes.add(node(i, r));
    }
    return nodes;
  }

  PoolIndex index(WorkloadMix mix) {
    return new PoolIndex(config, new ModelBits(), mix);
  }

  @Test
  void aNewListOfTheSameNodesIsNotIndexedAgainNorTheMixReweighted() {
    WorkloadMix mix = new WorkloadMix(0.95, 64, true);
    mix.observe(new TaskClass(4000, 1000, 1, 1L));
    PoolIndex index = index(mix);
    List<PoolNode> nodes = pool(5_000, new Random(16));
    PoolIndex.NodeMeta[] first = index.meta(PoolSnapshot.of(nodes));
    long mixVersion = mix.version();

    // What PoolView does for every gang: new PoolNode objects, a new list, the same figures.
    for (int gang = 0; gang < 20; gang++) {
      List<PoolNode> copy = new ArrayList<>();
      nodes.forEach(n -> copy.add(n.withSpeedFactor(n.speedFactor())));
      assertThat(index.meta(PoolSnapshot.of(copy))).isSameAs(first);
    }
    assertThat(index.reindexed()).isEqualTo(1);
    assertThat(mix.version()).isEqualTo(mixVersion);

    // A price change is indexed again (the mean price moves) but leaves the GPUs per model alone.
    List<PoolNode> repriced = new ArrayList<>(nodes);
    PoolNode n0 = nodes.get(0);
    repriced.set(
        0,
        new PoolNode(
            n0.name(),
            n0.provider(),
            n0.region(),
            n0.zone(),
            n0.gpuProduct(),
            n0.gpuCount(),
            n0.gpuMemoryMib(),
            n0.sharingReplicas(),
            n0.cpuMillis(),
            n0.memoryMib(),
            n0.pricePerGpuHour() + 100,
            n0.reliability(),
            n0.ready()));
    double before = index.meanEffectivePrice();
    index.meta(PoolSnapshot.of(repriced));
    assertThat(index.reindexed()).isEqualTo(2);
    assertThat(index.meanEffectivePrice()).isGreaterThan(before);
    assertThat(mix.version()).isEqualTo(mixVersion);
  }

  @Test
  void aChangingPoolIsIndexedExactlyAsAFreshIndexWould() {
    Random r = new Random(7);
    WorkloadMix mix = new WorkloadMix(0.95, 64, true);
    PoolIndex incremental = index(mix);
    List<PoolNode> nodes = pool(300, r);
    int next = nodes.size();
    for (int step = 0; step < 200; step++) {
      switch (r.nextInt(5)) {
        case 0 -> nodes.remove(r.nextInt(nodes.size()));
        case 1 -> nodes.add(node(next++, r));
        case 2 -> {
          int i = r.nextInt(nodes.size());
          nodes.set(i, nodes.get(i).withSpeedFactor(0.3 + r.nextInt(7) / 10.0));
        }
        case 3 -> {
          // A node of a region no other node is in: its group must appear, then go again.
          PoolNode n = nodes.get(r.nextInt(nodes.size()));
          nodes.add(
              new PoolNode(
                  "lonely-" + step,
                  n.provider(),
                  "far-" + step,
                  "far-" + step + "-a",
                  n.gpuProduct(),
                  n.gpuCount(),
                  n.gpuMemoryMib(),
                  1,
                  n.cpuMillis(),
                  n.memoryMib(),
                  n.pricePerGpuHour(),
                  n.reliability(),
                  true));
        }
        default -> {} // the same nodes again
      }
      PoolSnapshot snap = PoolSnapshot.of(nodes);
      PoolIndex fresh = index(new WorkloadMix(0.95, 64, true));
      assertThat(incremental.meta(snap)).containsExactly(fresh.meta(snap));
      assertThat(incremental.groupCount()).isEqualTo(fresh.groupCount());
      for (int g = 0; g < fresh.groupCount(); g++) {
        assertThat(incremental.groupName(g)).isEqualTo(fresh.groupName(g));
      }
      for (PoolNode n : nodes) {
        assertThat(incremental.regionGroup(n.region())).isEqualTo(fresh.regionGroup(n.region()));
      }
      assertThat(incremental.regionGroup("far-" + (step - 1)))
          .isEqualTo(fresh.regionGroup("far-" + (step - 1)));
      assertThat(incremental.meanEffectivePrice()).isEqualTo(fresh.meanEffectivePrice());
    }
  }
}
