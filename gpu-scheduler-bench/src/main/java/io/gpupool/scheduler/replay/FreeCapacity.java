package io.gpupool.scheduler.replay;

import java.util.Locale;

/**
 * Where a replayed cluster's free GPU capacity sits, in % of the cluster's GPU capacity: whole free
 * GPUs, and remainders of partly used GPUs by size. At arrived = 100 % this is the unallocated
 * figure taken apart, which shows how much of it no placement could have used.
 *
 * @param wholeGpus free capacity on GPUs nothing is allocated on
 * @param under100 remainders below 100 milli-GPU
 * @param from100to199 remainders of 100–199 milli
 * @param from200to499 remainders of 200–499 milli
 * @param from500to999 remainders of 500–999 milli
 * @param commonestRemainder the remainder (milli) holding the most free capacity
 * @param commonestShare the free capacity in remainders of exactly that size
 */
public record FreeCapacity(
    double wholeGpus,
    double under100,
    double from100to199,
    double from200to499,
    double from500to999,
    int commonestRemainder,
    double commonestShare) {

  static FreeCapacity of(ReplayCluster c) {
    long[] bucket = new long[5];
    long[] byRemainder = new long[1000];
    for (int n = 0; n < c.size; n++) {
      for (int g = 0; g < c.gpus[n]; g++) {
        int f = c.free[n][g];
        if (f == 1000) {
          bucket[0] += f;
        } else if (f > 0) {
          bucket[f < 100 ? 1 : f < 200 ? 2 : f < 500 ? 3 : 4] += f;
          byRemainder[f] += f;
        }
      }
    }
    int top = 0;
    for (int f = 1; f < 1000; f++) {
      if (byRemainder[f] > byRemainder[top]) {
        top = f;
      }
    }
    double cap = c.capacityMilli / 100.0;
    return new FreeCapacity(
        bucket[0] / cap,
        bucket[1] / cap,
        bucket[2] / cap,
        bucket[3] / cap,
        bucket[4] / cap,
        top,
        byRemainder[top] / cap);
  }

  /** Total free capacity, % of the cluster's GPUs. */
  public double total() {
    return wholeGpus + under100 + from100to199 + from200to499 + from500to999;
  }

  @Override
  public String toString() {
    return String.format(
        Locale.ROOT,
        "whole GPUs %.2f, remainders <100m %.2f, 100-199m %.2f, 200-499m %.2f, 500-999m %.2f"
            + " (largest: %dm remainders %.2f)",
        wholeGpus,
        under100,
        from100to199,
        from200to499,
        from500to999,
        commonestRemainder,
        commonestShare);
  }
}
