package io.gpupool.scheduler.bench;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.JobKind;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.model.Strategy;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.Scheduler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Placement speed on synthetic mixed pools: gang jobs of 1–16 workers × 1–8 GPUs, a random mix of
 * constraints, the pool about half occupied. Single-threaded; times are CPU time of the planning
 * thread (the machine is shared, so wall time is also shown); prints one row per pool size.
 *
 * <p>{@code java -cp gpu-scheduler/target/classes io.gpupool.scheduler.bench.PlacementBench
 * [--nodes 1000,10000,50000] [--placements 3000] [--warmup 1500]}
 */
public final class PlacementBench {
  private static final java.lang.management.ThreadMXBean CPU =
      java.lang.management.ManagementFactory.getThreadMXBean();

  private PlacementBench() {}

  public static void main(String[] args) {
    int[] sizes = {1000, 10000, 50000};
    int placements = 3000;
    int warmup = 1500;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--nodes" ->
            sizes = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--placements" -> placements = Integer.parseInt(args[++i]);
        case "--warmup" -> warmup = Integer.parseInt(args[++i]);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    System.out.println(
        "| nodes | placements | placed | p50 ms | p99 ms | max ms | placements/s | µs per 1k nodes"
            + " (mean) | p99 wall ms |");
    System.out.println("|---|---|---|---|---|---|---|---|---|");
    for (int n : sizes) {
      run(n, warmup, placements);
    }
  }

  static void run(int nodes, int warmup, int placements) {
    Random rng = new Random(nodes);
    List<PoolNode> pool = SyntheticPool.mixed(nodes, 42);
    PoolSnapshot base = PoolSnapshot.of(pool, halfFull(pool, rng));
    Scheduler scheduler = new Scheduler();
    PoolSnapshot snap = base;
    long[] t = new long[placements];
    long[] w = new long[placements];
    int placed = 0;
    long total = 0;
    for (int i = 0; i < warmup + placements; i++) {
      JobRequest r = request(rng, i);
      long c0 = CPU.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      PlanResult res = scheduler.plan(r, snap);
      long wall = System.nanoTime() - t0;
      long dt = CPU.getCurrentThreadCpuTime() - c0;
      if (res instanceof Plan p) {
        snap = snap.with(p.allocations());
        if (i >= warmup) {
          placed++;
        }
      }
      if (i % 200 == 199) {
        snap = base; // keep occupancy stable
      }
      if (i >= warmup) {
        t[i - warmup] = dt;
        w[i - warmup] = wall;
        total += dt;
      }
    }
    Arrays.sort(t);
    Arrays.sort(w);
    double mean = total / 1e6 / placements;
    System.out.printf(
        Locale.ROOT,
        "| %d | %d | %d | %.3f | %.3f | %.3f | %.0f | %.1f | %.3f |%n",
        nodes,
        placements,
        placed,
        t[placements / 2] / 1e6,
        t[(int) (placements * 0.99)] / 1e6,
        t[placements - 1] / 1e6,
        placements / (total / 1e9),
        mean * 1000 / (nodes / 1000.0),
        w[(int) (placements * 0.99)] / 1e6);
  }

  /** Occupies about half of the GPUs with whole-GPU allocations. */
  static List<Allocation> halfFull(List<PoolNode> pool, Random rng) {
    List<Allocation> out = new ArrayList<>();
    for (PoolNode n : pool) {
      int used = rng.nextInt(n.gpuCount() + 1);
      if (used > 0) {
        int[] g = new int[used];
        for (int i = 0; i < used; i++) {
          g[i] = i;
        }
        out.add(new Allocation("bg-" + n.name(), n.name(), g, 1000, 0, 0));
      }
    }
    return out;
  }

  static JobRequest request(Random rng, int i) {
    int workers = 1 + rng.nextInt(16);
    int k = 1 << rng.nextInt(4);
    JobRequest.Builder b =
        JobRequest.builder(
                "bench-" + i,
                ModelSpec.of((long) (1e8 * (1 + rng.nextInt(300))), 16 + rng.nextInt(64)))
            .kind(JobKind.TRAINING)
            .strategy(Strategy.AUTO)
            .workers(workers, k)
            .perWorker(2000L * k, 8192L * k);
    if (rng.nextInt(3) == 0) {
      b.regions(rng.nextBoolean() ? "eu-west" : "us-east");
    }
    if (rng.nextInt(3) == 0) {
      b.maxPricePerGpuHour(0.5 + 2 * rng.nextDouble());
    }
    if (rng.nextInt(4) == 0) {
      b.minGpuMemoryMib(40 * 1024);
    }
    return b.build();
  }
}
