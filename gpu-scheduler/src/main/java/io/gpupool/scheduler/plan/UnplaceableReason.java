package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.JobRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Turns a request the pool cannot host, and the filter's {@link Census}, into a reason a user can
 * act on: what it needs, what the pool has, and how many nodes each constraint excluded.
 */
final class UnplaceableReason {
  private UnplaceableReason() {}

  /** A short name of the request: its id and shape. */
  static String describe(JobRequest r) {
    StringBuilder b = new StringBuilder();
    b.append(r.id()).append(" (");
    if (r.gpuMilli() < 1000) {
      b.append(r.workers()).append(" × ").append(r.gpuMilli()).append(" milli-GPU");
    } else {
      b.append(r.workers()).append(" × ").append(r.gpusPerWorker()).append(" GPU");
    }
    return b.append(")").toString();
  }

  /** E.g. "needs 8 GPUs with ≥ 40 GiB in eu-west under 2.00/h; the pool has 3 free". */
  static Unplaceable of(JobRequest r, Census c) {
    return new Unplaceable(r.id(), needs(r) + has(r, c), details(c));
  }

  private static String needs(JobRequest r) {
    StringBuilder need = new StringBuilder("needs ");
    int gpus = r.workers() * r.gpusPerWorker();
    if (r.gpuMilli() < 1000) {
      need.append(r.workers()).append(" GPU shares of ").append(r.gpuMilli()).append(" milli");
    } else if (r.gpusPerWorker() > 1) {
      need.append(gpus)
          .append(" GPUs (")
          .append(r.workers())
          .append(" × ")
          .append(r.gpusPerWorker())
          .append(" on one node each)");
    } else {
      need.append(gpus).append(" GPUs");
    }
    if (r.minGpuMemoryMib() > 0) {
      need.append(
          String.format(Locale.ROOT, " with ≥ %d GiB", (r.minGpuMemoryMib() + 1023) / 1024));
    }
    if (!r.allowedProducts().isEmpty()) {
      need.append(" of ").append(String.join("/", r.allowedProducts()));
    }
    if (!r.allowedRegions().isEmpty()) {
      need.append(" in ").append(String.join(", ", r.allowedRegions()));
    }
    if (Double.isFinite(r.maxPricePerGpuHour())) {
      need.append(String.format(Locale.ROOT, " under %.2f/h", r.maxPricePerGpuHour()));
    }
    if (r.minReliability() > 0) {
      need.append(String.format(Locale.ROOT, " with reliability ≥ %.2f", r.minReliability()));
    }
    return need.toString();
  }

  private static String has(JobRequest r, Census c) {
    long freeGpus = c.freeWorkers * r.gpusPerWorker();
    String has =
        r.gpuMilli() < 1000
            ? "; the pool has room for " + c.freeWorkers
            : r.gpusPerWorker() > 1
                ? "; the pool has room for "
                    + c.freeWorkers
                    + " such worker(s) ("
                    + freeGpus
                    + " GPUs)"
                : "; the pool has " + freeGpus + " free";
    if (r.minWorkers() < r.workers()) {
      has += " (at least " + r.minWorkers() + " workers would do)";
    }
    return has;
  }

  private static List<String> details(Census c) {
    List<String> details = new ArrayList<>();
    details.add(c.nodes + " nodes in the pool");
    addIf(details, c.notReady, "not ready");
    addIf(details, c.product, "excluded by GPU product");
    addIf(details, c.memory, "excluded by GPU memory");
    addIf(details, c.region, "excluded by region");
    addIf(details, c.price, "excluded by price");
    addIf(details, c.reliability, "excluded by reliability");
    addIf(details, c.cpuOrMemory, "eligible but short of CPU or memory");
    c.excluded.forEach((reason, n) -> details.add(n + " nodes excluded: " + reason));
    details.add(
        c.eligibleGpusTotal + " GPUs on eligible nodes, room for " + c.freeWorkers + " worker(s)");
    return details;
  }

  /** {@code first}, then the nodes the operator excluded, per reason. */
  static List<String> withExclusions(Census c, String first) {
    List<String> details = new ArrayList<>();
    details.add(first);
    c.excluded.forEach((reason, n) -> details.add(n + " nodes excluded: " + reason));
    return details;
  }

  private static void addIf(List<String> d, int n, String what) {
    if (n > 0) {
      d.add(n + " nodes " + what);
    }
  }
}
