package io.gpupool.scheduler.queue;

import io.gpupool.scheduler.model.GpuCatalog;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pool's GPU nodes as admission needs them: per product, how many nodes carry how many GPUs.
 * Quota says how many GPUs a queue may hold; this says whether the nodes could ever hold a gang of
 * that shape at all (each worker's GPUs on one node), so that a gang no node shape fits is not
 * admitted to hold quota it can never use.
 */
public final class NodeShapes {
  /** Normalised product, then GPUs on a node, then how many such nodes. */
  private final Map<String, TreeMap<Integer, Integer>> byProduct = new HashMap<>();

  /** Adds one node of {@code gpus} GPUs of {@code product} (GFD spelling or the catalog's). */
  public NodeShapes add(String product, int gpus) {
    if (gpus > 0) {
      byProduct.computeIfAbsent(key(product), k -> new TreeMap<>()).merge(gpus, 1, Integer::sum);
    }
    return this;
  }

  /**
   * Workers of {@code gpusPerWorker} GPUs each that the nodes of {@code products} could hold if the
   * gang had them to itself.
   */
  long workersFit(Collection<String> products, int gpusPerWorker) {
    long workers = 0;
    for (String product : products) {
      TreeMap<Integer, Integer> sizes = byProduct.get(key(product));
      if (sizes == null) {
        continue;
      }
      for (var e : sizes.tailMap(gpusPerWorker, true).entrySet()) {
        workers += (long) (e.getKey() / gpusPerWorker) * e.getValue();
      }
    }
    return workers;
  }

  /** GPUs on the largest node of {@code products}; 0 when there is none. */
  int largest(Collection<String> products) {
    int most = 0;
    for (String product : products) {
      TreeMap<Integer, Integer> sizes = byProduct.get(key(product));
      if (sizes != null) {
        most = Math.max(most, sizes.lastKey());
      }
    }
    return most;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NodeShapes other && byProduct.equals(other.byProduct);
  }

  @Override
  public int hashCode() {
    return byProduct.hashCode();
  }

  private static String key(String product) {
    return GpuCatalog.normalize(product).toLowerCase(Locale.ROOT);
  }
}
