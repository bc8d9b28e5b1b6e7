package io.gpupool.scheduler.queue;

import java.util.Objects;
import java.util.Set;

/**
 * What admission knows of a job: its queue, priority, arrival and GPU demand.
 *
 * @param id unique, stable id (the operator uses {@code namespace/name})
 * @param arrival ordering key among equal priorities, e.g. creation time in milliseconds
 * @param gpus GPUs of the whole gang, all of one flavor
 * @param allowedProducts GPU products the job accepts; empty = any
 * @param expectedRuntimeMillis an upper bound on how long it runs once started (its deadline); 0 =
 *     unknown. Only bounded workloads can be backfilled past a held head.
 */
public record Workload(
    String id,
    String queue,
    int priority,
    long arrival,
    int gpus,
    Set<String> allowedProducts,
    long expectedRuntimeMillis) {

  public Workload {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(queue, "queue");
    allowedProducts = Set.copyOf(allowedProducts);
    if (gpus < 1) {
      throw new IllegalArgumentException(id + ": a workload needs at least one GPU");
    }
    if (expectedRuntimeMillis < 0) {
      throw new IllegalArgumentException(id + ": expected runtime below 0");
    }
  }

  public static Workload of(String id, String queue, int priority, long arrival, int gpus) {
    return new Workload(id, queue, priority, arrival, gpus, Set.of(), 0);
  }

  public Workload withRuntime(long millis) {
    return new Workload(id, queue, priority, arrival, gpus, allowedProducts, millis);
  }

  public Workload withProducts(Set<String> products) {
    return new Workload(id, queue, priority, arrival, gpus, products, expectedRuntimeMillis);
  }

  /** The same workload arriving at {@code millis}: at the back of its priority level then. */
  public Workload withArrival(long millis) {
    return new Workload(id, queue, priority, millis, gpus, allowedProducts, expectedRuntimeMillis);
  }

  boolean bounded() {
    return expectedRuntimeMillis > 0;
  }
}
