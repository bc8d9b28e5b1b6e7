package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.LinkModel;

/**
 * Tunables of the planner, each with a default.
 *
 * @param catalog GPU figures
 * @param links bandwidth and latency by locality
 * @param mfu model FLOPs utilisation: the share of the datasheet rate a job reaches (default 0.4)
 * @param tensorParallelEfficiency rate multiplier for a worker spanning several GPUs of one node
 * @param memoryHeadroom share of GPU memory the planner may fill (default 0.9)
 * @param restartLossHours work lost per node failure (default 0.1 h: restart and checkpoint)
 * @param reliabilityWeight weight of (1 − reliability) in node ranking
 * @param fragmentationWeight weight of fragmentation growth (in GPUs) in node ranking
 * @param spreadWeight penalty per replica already on the same provider or region (inference)
 * @param warmWeightsWeight what a node already holding a request's weights is worth, as a share of
 *     price per performance, for very large weights (half of it at 10 GiB; see {@link
 *     WarmWeights}); 0 turns the preference off
 */
public record SchedulerConfig(
    GpuCatalog catalog,
    LinkModel links,
    double mfu,
    double tensorParallelEfficiency,
    double memoryHeadroom,
    double restartLossHours,
    double reliabilityWeight,
    double fragmentationWeight,
    double spreadWeight,
    double warmWeightsWeight) {

  public SchedulerConfig {
    if (mfu <= 0 || mfu > 1 || memoryHeadroom <= 0 || memoryHeadroom > 1) {
      throw new IllegalArgumentException("mfu and memoryHeadroom must be in (0, 1]");
    }
    if (warmWeightsWeight < 0 || warmWeightsWeight >= 1) {
      throw new IllegalArgumentException("warmWeightsWeight must be in [0, 1)");
    }
  }

  /** Defaults as documented in docs/scheduling.md. */
  public static SchedulerConfig defaults() {
    return new SchedulerConfig(
        GpuCatalog.defaults(), LinkModel.defaults(), 0.4, 0.9, 0.9, 0.1, 1.0, 0.5, 0.5, 0.25);
  }

  public SchedulerConfig withMfu(double v) {
    return new SchedulerConfig(
        catalog,
        links,
        v,
        tensorParallelEfficiency,
        memoryHeadroom,
        restartLossHours,
        reliabilityWeight,
        fragmentationWeight,
        spreadWeight,
        warmWeightsWeight);
  }

  public SchedulerConfig withLinks(LinkModel v) {
    return new SchedulerConfig(
        catalog,
        v,
        mfu,
        tensorParallelEfficiency,
        memoryHeadroom,
        restartLossHours,
        reliabilityWeight,
        fragmentationWeight,
        spreadWeight,
        warmWeightsWeight);
  }

  public SchedulerConfig withWarmWeightsWeight(double v) {
    return new SchedulerConfig(
        catalog,
        links,
        mfu,
        tensorParallelEfficiency,
        memoryHeadroom,
        restartLossHours,
        reliabilityWeight,
        fragmentationWeight,
        spreadWeight,
        v);
  }
}
