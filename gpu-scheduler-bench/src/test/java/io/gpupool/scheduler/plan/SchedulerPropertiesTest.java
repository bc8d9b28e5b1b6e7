package io.gpupool.scheduler.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.bench.SyntheticPool;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.NodeState;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

class SchedulerPropertiesTest {

  static JobRequest randomRequest(Random rng, int i) {
    boolean share = rng.nextInt(4) == 0;
    JobRequest.Builder b =
        JobRequest.builder(
                "job-" + i, ModelSpec.of((long) (1e8 * (1 + rng.nextInt(80))), 8 + rng.nextInt(40)))
            .kind(share || rng.nextBoolean() ? JobKind.INFERENCE : JobKind.TRAINING)
            .strategy(Strategy.values()[rng.nextInt(3)])
            .perWorker(1000L * rng.nextInt(8), 1024L * rng.nextInt(16));
    if (share) {
      b.workers(1 + rng.nextInt(4), 1).gpuMilli(100 + rng.nextInt(800));
    } else {
      int n = 1 + rng.nextInt(6);
      b.workers(n, 1 << rng.nextInt(3)).minWorkers(1 + rng.nextInt(n));
    }
    if (rng.nextInt(3) == 0) {
      b.products(
          SyntheticPool.PRODUCTS[rng.nextInt(4)][0], SyntheticPool.PRODUCTS[rng.nextInt(4)][0]);
    }
    if (rng.nextInt(3) == 0) {
      b.regions(rng.nextBoolean() ? "eu-west" : "us-east");
    }
    if (rng.nextInt(3) == 0) {
      b.maxPricePerGpuHour(0.3 + rng.nextDouble() * 2);
    }
    if (rng.nextInt(3) == 0) {
      b.minReliability(0.9 + rng.nextDouble() * 0.1);
    }
    if (rng.nextInt(4) == 0) {
      b.minGpuMemoryMib(40 * 1024);
    }
    return b.build();
  }

  @Property(tries = 60)
  void plansNeverOverAllocateAndRespectConstraints(
      @ForAll @LongRange(min = 0, max = 1_000_000) long seed) {
    Random rng = new Random(seed);
    PoolSnapshot snap = PoolSnapshot.of(SyntheticPool.mixed(20 + rng.nextInt(30), seed));
    Scheduler s = new Scheduler();
    for (int i = 0; i < 40; i++) {
      JobRequest r = randomRequest(rng, i);
      PoolSnapshot before = snap;
      PlanResult res = s.plan(r, snap);
      if (res instanceof Plan p) {
        boolean sharded = p.why().get(0).startsWith("Sharded inference");
        // Gang: all requested workers (replicas), or an elastic start of at least minWorkers.
        long units =
            sharded
                ? p.ranks().stream().mapToInt(RankPlacement::replica).distinct().count()
                : p.ranks().size();
        assertThat(units).isBetween((long) r.minWorkers(), (long) r.workers());
        if (sharded) {
          assertThat(units).isEqualTo(r.workers());
        }
        for (RankPlacement rp : p.ranks()) {
          PoolNode n = snap.node(rp.node());
          assertThat(n.ready()).isTrue();
          if (!sharded) {
            assertThat(rp.gpuIndices()).hasSize(r.gpusPerWorker());
            assertThat(rp.milliPerGpu()).isEqualTo(r.gpuMilli());
          }
          assertThat(n.gpuMemoryMib()).isGreaterThanOrEqualTo(r.minGpuMemoryMib());
          assertThat(n.pricePerGpuHour()).isLessThanOrEqualTo(r.maxPricePerGpuHour());
          assertThat(n.reliability()).isGreaterThanOrEqualTo(r.minReliability());
          if (!r.allowedRegions().isEmpty()) {
            assertThat(r.allowedRegions()).contains(n.region());
          }
          if (!r.allowedProducts().isEmpty()) {
            assertThat(r.allowedProducts().stream().map(GpuCatalog::normalize))
                .contains(GpuCatalog.normalize(n.gpuProduct()));
          }
          if (rp.milliPerGpu() < 1000) {
            assertThat(n.shared()).isTrue();
          }
        }
        // Memory fits: every rank's share of the model state fits its GPUs (with headroom).
        for (RankPlacement rp : p.ranks()) {
          PoolNode n = snap.node(rp.node());
          double have =
              rp.gpuIndices().length
                  * n.gpuMemoryMib()
                  * 1024.0
                  * 1024
                  * 0.9
                  * rp.milliPerGpu()
                  / 1000.0;
          int layers = rp.lastLayer() - rp.firstLayer() + 1;
          double need = layers * r.model().layerStateBytes(r.kind());
          assertThat(need).isLessThanOrEqualTo(have * (1 + 1e-9));
        }
        // Applying the plan must never over-allocate (PoolSnapshot.with throws if it would).
        snap = snap.with(p.allocations());
        // Every layer is held by exactly one stage.
        if (p.strategy() == Strategy.PIPELINE_PARALLEL) {
          int replicas = p.ranks().stream().mapToInt(RankPlacement::replica).max().orElse(0) + 1;
          for (int rep = 0; rep < replicas; rep++) {
            int next = 0;
            for (RankPlacement rp : p.ranks()) {
              if (rp.replica() == rep) {
                assertThat(rp.firstLayer()).isEqualTo(next);
                next = rp.lastLayer() + 1;
              }
            }
            assertThat(next).isEqualTo(r.model().layers());
          }
        }
      } else {
        assertThat(((Unplaceable) res).reason()).isNotBlank();
        assertThat(snap).isSameAs(before);
      }
    }
    // Global invariant: no GPU is ever beyond capacity.
    for (int i = 0; i < snap.size(); i++) {
      NodeState st = snap.state(i);
      for (int g = 0; g < st.node().gpuCount(); g++) {
        assertThat(st.freeMilli(g)).isBetween(0, 1000);
      }
      assertThat(st.cpuFree()).isNotNegative();
      assertThat(st.memoryFree()).isNotNegative();
    }
  }

  @Property(tries = 30)
  void repairKeepsSurvivorsInPlace(@ForAll @LongRange(min = 0, max = 1_000_000) long seed) {
    Random rng = new Random(seed);
    PoolSnapshot snap = PoolSnapshot.of(SyntheticPool.mixed(40, seed));
    Scheduler s = new Scheduler();
    JobRequest r =
        JobRequest.builder("r", ModelSpec.of(300_000_000L, 24))
            .strategy(Strategy.DATA_PARALLEL)
            .workers(4, 1)
            .minWorkers(2)
            .build();
    if (!(s.plan(r, snap) instanceof Plan p)) {
      return;
    }
    snap = snap.with(p.allocations());
    String lost = p.ranks().get(rng.nextInt(p.ranks().size())).node();
    PlanResult res = s.repair(p, java.util.Set.of(lost), snap);
    if (res instanceof Plan q) {
      List<String> before = new ArrayList<>();
      for (RankPlacement rp : p.ranks()) {
        if (!rp.node().equals(lost)) {
          before.add(rp.node() + java.util.Arrays.toString(rp.gpuIndices()));
        }
      }
      List<String> after = new ArrayList<>();
      for (RankPlacement rp : q.ranks()) {
        assertThat(rp.node()).isNotEqualTo(lost);
        after.add(rp.node() + java.util.Arrays.toString(rp.gpuIndices()));
      }
      assertThat(after).containsAll(before);
      assertThat(q.ranks().size()).isBetween(r.minWorkers(), r.workers());
    }
  }
}
