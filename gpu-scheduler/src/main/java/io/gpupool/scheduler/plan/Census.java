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
  long freeWorkers;
  long eligibleGpusTotal;
}
