package io.gpupool.scheduler.queue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Whether the pool's node shapes could hold a gang on a flavor, and why not when they cannot. */
final class ShapeFit {
  private ShapeFit() {}

  /** The flavors whose nodes could hold all of {@code w}'s workers at once. */
  static List<Quota> placeable(NodeShapes shapes, Workload w, List<Quota> flavors) {
    List<Quota> out = new ArrayList<>(flavors.size());
    for (Quota quota : flavors) {
      if (shapes.workersFit(productsOf(quota, w), w.gpusPerWorker()) >= w.workers()) {
        out.add(quota);
      }
    }
    return out;
  }

  /** Why none of {@code flavors} can hold {@code w}, naming the first one's nodes. */
  static String noNodeShape(NodeShapes shapes, Workload w, List<Quota> flavors) {
    Quota first = flavors.get(0);
    Set<String> products = productsOf(first, w);
    long fit = shapes.workersFit(products, w.gpusPerWorker());
    int largest = shapes.largest(products);
    StringBuilder why = new StringBuilder(AdmissionBook.NO_NODE_SHAPE).append(": ");
    why.append(w.workers()).append(" worker(s) of ").append(w.gpusPerWorker());
    why.append(" GPU(s) on one node each, the pool's ").append(first.flavor());
    why.append(" nodes hold ").append(fit).append(" such worker(s)");
    why.append(largest == 0 ? " (there are none)" : " (largest node: " + largest + " GPUs)");
    if (flavors.size() > 1) {
      why.append(", and no other flavor of GpuQueue ").append(w.queue()).append(" fits either");
    }
    return why.append("; it waits without holding quota until the pool changes").toString();
  }

  private static Set<String> productsOf(Quota quota, Workload w) {
    if (w.allowedProducts().isEmpty()) {
      return quota.products();
    }
    Set<String> both = new HashSet<>(quota.products());
    both.retainAll(w.allowedProducts());
    return both;
  }
}
