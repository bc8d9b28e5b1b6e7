package io.gpupool.scheduler.bench;

import io.gpupool.scheduler.model.PoolNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Synthetic pools for tests and benchmarks. */
public final class SyntheticPool {
  private SyntheticPool() {}

  /** Product, memory MiB, typical price per GPU-hour. */
  public static final String[][] PRODUCTS = {
    {"NVIDIA-GeForce-RTX-3090", "24268", "0.25"},
    {"NVIDIA-GeForce-RTX-4090", "24564", "0.40"},
    {"NVIDIA-A100-SXM4-80GB", "81920", "1.20"},
    {"NVIDIA-H100-80GB-HBM3", "81559", "2.50"},
  };

  /** A mixed pool: 4 products, 1/2/4/8 GPUs, 3 regions × 3 zones, 5 providers, some shared. */
  public static List<PoolNode> mixed(int n, long seed) {
    Random rng = new Random(seed);
    List<PoolNode> out = new ArrayList<>(n);
    int[] counts = {1, 2, 4, 8};
    String[] regions = {"eu-west", "us-east", "ap-south"};
    for (int i = 0; i < n; i++) {
      String[] p = PRODUCTS[rng.nextInt(PRODUCTS.length)];
      int gpus = counts[rng.nextInt(counts.length)];
      String region = regions[rng.nextInt(regions.length)];
      out.add(
          new PoolNode(
              "node-" + i,
              "provider-" + rng.nextInt(5),
              region,
              region + "-" + (char) ('a' + rng.nextInt(3)),
              p[0],
              gpus,
              Long.parseLong(p[1]),
              rng.nextInt(8) == 0 ? 4 : 1,
              gpus * 16000L,
              gpus * 65536L,
              Double.parseDouble(p[2]) * (0.8 + 0.4 * rng.nextDouble()),
              0.9 + 0.1 * rng.nextDouble(),
              rng.nextInt(50) != 0));
    }
    return out;
  }
}
