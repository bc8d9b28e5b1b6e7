package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.CachedWeights;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelWeights;

/**
 * The warm-node term: a worker on a node whose local cache already holds the request's weights
 * starts without pulling them. Its worth grows with the weights' size, s / (s + 10 GiB) of {@link
 * SchedulerConfig#warmWeightsWeight()}: a 140 GB model on a warm node may cost up to ~23 % more per
 * unit of performance than a cold one and still win (default weight 0.25), a 2 GB model ~4 %. It
 * lowers a candidate's ranking key by that much and raises an inference plan's goodput by the mean
 * over its workers; it never lets a node past a filter (product, memory, region, price cap,
 * reliability, room), so it only decides between nodes the request accepts anyway.
 */
final class WarmWeights {
  /** Weights of this size earn half the weight: pulling them takes minutes on a typical link. */
  static final double HALF_WORTH_BYTES = 10.0 * 1024 * 1024 * 1024;

  private WarmWeights() {}

  /** The term for a worker of {@code r} on {@code node}; 0 when the node does not hold them. */
  static double of(SchedulerConfig config, JobRequest r, CachedWeights cache, String node) {
    ModelWeights w = r.weights();
    if (w == null || config.warmWeightsWeight() == 0 || !cache.holds(node, w.digest())) {
      return 0;
    }
    return config.warmWeightsWeight() * w.bytes() / (w.bytes() + HALF_WORTH_BYTES);
  }
}
