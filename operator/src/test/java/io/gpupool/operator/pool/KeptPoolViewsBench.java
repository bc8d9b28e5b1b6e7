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
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.it.TestNodes;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.scheduler.plan.Scheduler;
import io.gpupool.scheduler.plan.SchedulerConfig;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Harness: what one placement costs under the allocation ledger's lock on a 5,000-node pool, with
 * the pool view built afresh for each gang (as before) and kept between placements. Each call does
 * what {@code SchedulerTrainingPlanner.place} does under the lock: the view, the snapshot with
 * every holding, {@code Scheduler.plan}. CPU time of the calling thread; prints a table.
 *
 * <p>Run: {@code java -cp <operator test classpath> io.gpupool.operator.pool.KeptPoolViewsBench
 * [nodes] [holders]}.
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

  private KeptPoolViewsBench() {}

  public static void main(String[] args) {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int holders = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
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
      List<String> names = new ArrayList<>();
      for (int i = 0; i < nodes; i++) {
        String name = "node-" + i;
        names.add(name);
        inventory.update(
            TestNodes.gpuNode(
                name,
                "p" + random.nextInt(40),
                PRODUCTS[random.nextInt(PRODUCTS.length)],
                new int[] {1, 2, 4, 8}[random.nextInt(4)],
                81920,
                REGIONS[random.nextInt(REGIONS.length)]));
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
      KeptPoolViews kept = new KeptPoolViews(sources);
      Map<String, Map<String, Integer>> holdings = new HashMap<>();
      for (int h = 0; h < holders; h++) {
        holdings.put("job-" + h, Map.of(names.get(random.nextInt(names.size())), 1));
      }
      Scheduler scheduler = new Scheduler(SchedulerConfig.defaults());
      List<TrainingJob> gangs = new ArrayList<>();
      for (int g = 0; g < 64; g++) {
        gangs.add(gang("gang-" + g, 1 + random.nextInt(2), new int[] {1, 2, 4}[random.nextInt(3)]));
      }
      long[] fresh = measure(() -> sources.build(false, null), holdings, scheduler, gangs);
      long[] keptTimes = measure(() -> kept.view(false, null), holdings, scheduler, gangs);
      System.out.printf(
          "%n%,d nodes, %,d holdings, %d placements measured after %d (CPU time)%n%n",
          nodes, holders, MEASURED, WARMUP);
      System.out.println("| per placement | view built per gang | view kept |");
      System.out.println("|---|---|---|");
      System.out.printf("| mean | %.2f ms | %.2f ms |%n", mean(fresh) / 1e6, mean(keptTimes) / 1e6);
      System.out.printf("| p99 | %.2f ms | %.2f ms |%n", p99(fresh) / 1e6, p99(keptTimes) / 1e6);
      System.out.printf("| views built | %d | %d |%n", WARMUP + MEASURED, kept.builds());
    }
  }

  private static long[] measure(
      Supplier<PoolView> view,
      Map<String, Map<String, Integer>> holdings,
      Scheduler scheduler,
      List<TrainingJob> gangs) {
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    long[] out = new long[MEASURED];
    for (int i = 0; i < WARMUP + MEASURED; i++) {
      TrainingJob job = gangs.get(i % gangs.size());
      long start = cpu.getCurrentThreadCpuTime();
      PoolView v = view.get();
      Map<String, Map<String, Integer>> others = new HashMap<>(holdings);
      scheduler.plan(JobRequests.training(job.getMetadata().getName(), job), v.snapshot(others));
      long took = cpu.getCurrentThreadCpuTime() - start;
      if (i >= WARMUP) {
        out[i - WARMUP] = took;
      }
    }
    return out;
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
