package io.gpupool.scheduler.plan;

/** What the candidate filter saw: node counts per reason of exclusion, for an actionable reason. */
final class Census {
  int nodes;
  int notReady;
  int product;
  int memory;
  int region;
  int price;
  int reliability;
  int cpuOrMemory;

  /** Nodes the operator excluded, per its reason (in the order first seen). */
  final java.util.Map<String, Integer> excluded = new java.util.LinkedHashMap<>();

  long freeWorkers;
  long eligibleGpusTotal;
}
