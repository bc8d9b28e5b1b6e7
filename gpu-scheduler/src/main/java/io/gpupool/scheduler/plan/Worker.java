package io.gpupool.scheduler.plan;

import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.model.PoolNode;

/**
 * One worker slot: k GPUs (or a fraction of one) on one node.
 *
 * @param rate effective FLOP/s (datasheet × MFU, × tensor-parallel efficiency over several GPUs)
 * @param memBytes GPU memory the planner may fill (headroom applied)
 * @param warmth the {@link WarmWeights} term of its node for the request (0 when cold)
 * @param preferred the request's preferred weight of its node ({@link PreferredNodes#weight})
 */
record Worker(
    PoolNode node,
    GpuSpec spec,
    int[] gpus,
    int milli,
    double rate,
    double memBytes,
    double warmth,
    int preferred) {

  static final double GIB = 1024.0 * 1024 * 1024;

  /** A worker of {@code gpus} × {@code milli} on {@code node}, rated by the config. */
  static Worker of(PoolNode node, GpuSpec spec, int[] gpus, int milli, SchedulerConfig config) {
    double tp = gpus.length > 1 ? config.tensorParallelEfficiency() : 1.0;
    double rate = gpus.length * spec.denseTflops() * 1e12 * config.mfu() * tp * milli / 1000.0;
    double mem =
        gpus.length
            * node.gpuMemoryMib()
            * 1024.0
            * 1024.0
            * config.memoryHeadroom()
            * milli
            / 1000.0;
    return new Worker(node, spec, gpus, milli, rate, mem, 0, 0);
  }

  /** This worker on a node whose cache holds the request's weights, worth {@code v}. */
  Worker withWarmth(double v) {
    return new Worker(node, spec, gpus, milli, rate, memBytes, v, preferred);
  }

  /** This worker on a node of preferred weight {@code w} for the request. */
  Worker withPreferred(int w) {
    return new Worker(node, spec, gpus, milli, rate, memBytes, warmth, w);
  }

  /** This worker as rank {@code rank} of a plan. */
  RankPlacement rank(int rank, int replica, int stage, int first, int last, double share) {
    return new RankPlacement(
        rank,
        replica,
        node.name(),
        node.provider(),
        node.region(),
        node.zone(),
        node.gpuProduct(),
        gpus,
        milli,
        stage,
        first,
        last,
        share);
  }
}
