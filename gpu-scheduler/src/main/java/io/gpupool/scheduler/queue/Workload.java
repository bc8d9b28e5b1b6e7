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
 * @param gpusPerWorker GPUs of the gang that must sit on one node (a worker); {@code gpus} is a
 *     multiple of it
 */
public record Workload(
    String id,
    String queue,
    int priority,
    long arrival,
    int gpus,
    Set<String> allowedProducts,
    long expectedRuntimeMillis,
    int gpusPerWorker) {

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
    if (gpusPerWorker < 1 || gpus % gpusPerWorker != 0) {
      throw new IllegalArgumentException(
          id + ": " + gpus + " GPUs are not whole workers of " + gpusPerWorker + " GPUs");
    }
  }

  /** Workers of one GPU each: any node with a GPU of its products can take one. */
  public Workload(
      String id,
      String queue,
      int priority,
      long arrival,
      int gpus,
      Set<String> allowedProducts,
      long expectedRuntimeMillis) {
    this(id, queue, priority, arrival, gpus, allowedProducts, expectedRuntimeMillis, 1);
  }

  public static Workload of(String id, String queue, int priority, long arrival, int gpus) {
    return new Workload(id, queue, priority, arrival, gpus, Set.of(), 0);
  }

  public Workload withRuntime(long millis) {
    return new Workload(id, queue, priority, arrival, gpus, allowedProducts, millis, gpusPerWorker);
  }

  public Workload withProducts(Set<String> products) {
    return new Workload(
        id, queue, priority, arrival, gpus, products, expectedRuntimeMillis, gpusPerWorker);
  }

  /** The same workload arriving at {@code millis}: at the back of its priority level then. */
  public Workload withArrival(long millis) {
    return new Workload(
        id, queue, priority, millis, gpus, allowedProducts, expectedRuntimeMillis, gpusPerWorker);
  }

  /** The same gang as {@code workers} workers of {@code gpus / workers} GPUs each. */
  public Workload inWorkers(int workers) {
    return new Workload(
        id, queue, priority, arrival, gpus, allowedProducts, expectedRuntimeMillis, gpus / workers);
  }

  int workers() {
    return gpus / gpusPerWorker;
  }

  boolean bounded() {
    return expectedRuntimeMillis > 0;
  }
}
