package io.gpupool.operator.pool;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gpupool.api.v1alpha1.GpuPrice;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpuProviderSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.it.TestNodes;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.Scheduler;
import io.gpupool.scheduler.plan.SchedulerConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Harness: what one placement costs under the allocation ledger's lock on a 5,000-node pool with
 * 10,000 jobs holding GPUs, three ways: the pool view built afresh for each gang and every holding
 * copied ({@code AllocationLedger.holdings()}) and laid out (as before the view was kept); the view
 * kept, holdings still copied (as before holdings were kept by node); the view kept and the
 * holdings read as kept by node ({@code NodeHoldings}), only what changed laid out again. Each
 * placement does what {@code SchedulerTrainingPlanner.place} does under the lock (the view, the
 * snapshot without the job's own holding, {@code Scheduler.plan}, the reservation), and then the
 * gang placed {@value #RUNNING} placements earlier ends (its holding released), so the pool stays
 * as full. CPU time of the calling thread; prints a table, and whether the last two ways placed
 * every gang on the same nodes.
 *
 * <p>Run: {@code java -cp <operator test classpath> io.gpupool.operator.pool.KeptPoolViewsBench
 * [nodes] [jobs]}.
 */
public final class KeptPoolViewsBench {
  private static final String[] PRODUCTS = {
    "NVIDIA-GeForce-RTX-4090",
    "NVIDIA-GeForce-RTX-3090",
    "NVIDIA-RTX-A6000",
    "NVIDIA-A100-SXM4-80GB",
    "NVIDIA-H100-80GB-HBM3",
    "NVIDIA-L4"
  };
  private static final String[] REGIONS = {"eu-west", "eu-central", "us-east", "us-west"};
  private static final int WARMUP = 100;
  private static final int MEASURED = 500;

  /** Gangs placed by the harness that hold GPUs at once. */
  private static final int RUNNING = 32;

  private KeptPoolViewsBench() {}

  /** One way of making the snapshot a placement plans on, under the ledger's lock. */
  private interface SnapshotWay {
    PoolSnapshot snapshot(PoolView view, AllocationLedger ledger, String holder);
  }

  /** What a measured run took per placement, and the nodes each gang was placed on. */
  private record Run(long[] cpuNanos, List<String> placements) {}

  public static void main(String[] args) {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int jobs = args.length > 1 ? Integer.parseInt(args[1]) : 10_000;
    Random random = new Random(16);
    try (KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(new ConfigBuilder().withMasterUrl("http://127.0.0.1:9").build())
            .build()) {
      NodeInventory inventory = new NodeInventory(new ClusterWatches(client));
      Map<String, GpuProvider> providers = new HashMap<>();
      for (int p = 0; p < 40; p++) {
        providers.put("p" + p, provider("p" + p));
      }
      List<String> gpuSlots = new ArrayList<>();
      for (int i = 0; i < nodes; i++) {
        String name = "node-" + i;
        int gpus = new int[] {1, 2, 4, 8}[random.nextInt(4)];
        for (int g = 0; g < gpus; g++) {
          gpuSlots.add(name);
        }
        inventory.update(
            TestNodes.gpuNode(
                name,
                "p" + random.nextInt(40),
                PRODUCTS[random.nextInt(PRODUCTS.length)],
                gpus,
                81920,
                REGIONS[random.nextInt(REGIONS.length)]));
      }
      Collections.shuffle(gpuSlots, random);
      if (jobs > gpuSlots.size()) {
        throw new IllegalArgumentException(jobs + " one-GPU jobs do not fit " + gpuSlots.size());
      }
      PoolSources sources =
          new PoolSources(
              inventory,
              () -> List.copyOf(providers.values()),
              (p, product) -> Optional.of(new BigDecimal("1.5")),
              p -> 0.99,
              new TrustLedger(),
              all -> Map.of(),
              () -> 0L);
      Scheduler scheduler = new Scheduler(SchedulerConfig.defaults());
      List<TrainingJob> gangs = new ArrayList<>();
      for (int g = 0; g < 64; g++) {
        gangs.add(gang("gang-" + g, 1 + random.nextInt(2), new int[] {1, 2, 4}[random.nextInt(3)]));
      }
      SnapshotWay copied =
          (view, ledger, holder) -> {
            Map<String, Map<String, Integer>> holdings = ledger.holdings();
            holdings.remove(holder);
            return view.snapshot(holdings);
          };
      SnapshotWay kept =
          (view, ledger, holder) -> view.snapshot(ledger.byNode(), Map.of(holder, Map.of()));
      Run fresh =
          measure(() -> sources.build(false, null), copied, jobs, gpuSlots, scheduler, gangs);
      KeptPoolViews keptForCopies = new KeptPoolViews(sources);
      Run copies =
          measure(() -> keptForCopies.view(false, null), copied, jobs, gpuSlots, scheduler, gangs);
      KeptPoolViews keptForNodes = new KeptPoolViews(sources);
      Run byNode =
          measure(() -> keptForNodes.view(false, null), kept, jobs, gpuSlots, scheduler, gangs);
      System.out.printf(
          "%n%,d nodes, %,d jobs holding GPUs (a reservation and a live pod each), %d placements"
              + " measured after %d (CPU time)%n%n",
          nodes, jobs, MEASURED, WARMUP);
      System.out.println(
          "| per placement | view built, holdings copied | view kept, holdings copied | view kept,"
              + " holdings kept by node |");
      System.out.println("|---|---|---|---|");
      System.out.printf(
          "| CPU mean | %.2f ms | %.2f ms | %.2f ms |%n",
          mean(fresh.cpuNanos()) / 1e6,
          mean(copies.cpuNanos()) / 1e6,
          mean(byNode.cpuNanos()) / 1e6);
      System.out.printf(
          "| CPU p99 | %.2f ms | %.2f ms | %.2f ms |%n",
          p99(fresh.cpuNanos()) / 1e6, p99(copies.cpuNanos()) / 1e6, p99(byNode.cpuNanos()) / 1e6);
      System.out.printf(
          "| views built (%d placements) | %d | %d | %d |%n",
          WARMUP + MEASURED, WARMUP + MEASURED, keptForCopies.builds(), keptForNodes.builds());
      System.out.printf(
          "%nThe same nodes for every gang with holdings copied and kept by node: %s%n",
          copies.placements().equals(byNode.placements()) ? "yes" : "NO");
      System.out.printf(
          "Gangs placed: %d of %d%n",
          byNode.placements().stream().filter(p -> !p.equals("unplaceable")).count(),
          WARMUP + MEASURED);
    }
    // A Vert.x thread the client started outlives close(): end here, the table is printed.
    System.exit(0);
  }

  /**
   * Places {@link #WARMUP} + {@link #MEASURED} gangs on a ledger where {@code jobs} one-GPU jobs
   * hold {@code gpuSlots}' first nodes, each with its pod.
   */
  private static Run measure(
      Supplier<PoolView> views,
      SnapshotWay way,
      int jobs,
      List<String> gpuSlots,
      Scheduler scheduler,
      List<TrainingJob> gangs) {
    AllocationLedger ledger = new AllocationLedger();
    for (int j = 0; j < jobs; j++) {
      String holder = "TrainingJob/bench/job-" + j;
      ledger.hold(holder, Map.of(gpuSlots.get(j), 1));
      ledger.observeOwn("bench/job-" + j + "-worker-0", holder, gpuSlots.get(j), 1);
    }
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    long[] out = new long[MEASURED];
    List<String> placements = new ArrayList<>();
    for (int i = 0; i < WARMUP + MEASURED; i++) {
      TrainingJob job = gangs.get(i % gangs.size());
      String holder = "TrainingJob/bench/gang-" + i;
      long start = cpu.getCurrentThreadCpuTime();
      ledger.decide(
          () -> {
            PoolView v = views.get();
            PoolSnapshot snapshot = way.snapshot(v, ledger, holder);
            PlanResult result = scheduler.plan(JobRequests.training(holder, job), snapshot);
            if (result instanceof Plan plan) {
              Map<String, Integer> slots = new HashMap<>();
              plan.ranks()
                  .forEach(
                      r ->
                          slots.merge(
                              r.node(),
                              v.slots(r.node(), r.gpuIndices().length, r.milliPerGpu()),
                              Integer::sum));
              ledger.hold(holder, slots);
              placements.add(new TreeMap<>(slots).toString());
            } else {
              placements.add("unplaceable");
            }
            return result;
          });
      if (i >= RUNNING) {
        ledger.release("TrainingJob/bench/gang-" + (i - RUNNING));
      }
      long took = cpu.getCurrentThreadCpuTime() - start;
      if (i >= WARMUP) {
        out[i - WARMUP] = took;
      }
    }
    return new Run(out, placements);
  }

  private static double mean(long[] xs) {
    return Arrays.stream(xs).average().orElse(0);
  }

  private static long p99(long[] xs) {
    long[] s = xs.clone();
    Arrays.sort(s);
    return s[(int) Math.ceil(s.length * 0.99) - 1];
  }

  private static GpuProvider provider(String name) {
    GpuProvider p = new GpuProvider();
    p.setMetadata(new ObjectMetaBuilder().withName(name).build());
    GpuProviderSpec spec = new GpuProviderSpec();
    spec.prices = new ArrayList<>();
    for (String product : PRODUCTS) {
      GpuPrice price = new GpuPrice();
      price.gpuProduct = product;
      price.pricePerGpuHour = "1.5";
      spec.prices.add(price);
    }
    p.setSpec(spec);
    return p;
  }

  private static TrainingJob gang(String name, int workers, int gpusPerWorker) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withNamespace("bench").withName(name).build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/example/train:1";
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = workers;
    spec.parallelism.gpusPerWorker = gpusPerWorker;
    spec.model = new ModelSpec();
    spec.model.parameters = "7B";
    spec.model.layers = 32;
    job.setSpec(spec);
    return job;
  }
}
