package io.gpupool.scheduler.trust;

import io.gpupool.scheduler.model.GpuSpec;
import java.time.Duration;

/**
 * How long an honest node of the claimed product takes: the challenge's FLOPs at {@code efficiency}
 * of the catalog's dense TFLOP/s, rounds shared by the node's GPUs, plus a start-up allowance for
 * creating the pod and starting the container.
 *
 * <p>Time is measured on the operator's clock, from creating the pod to seeing its answer: a node
 * can make itself look slower but never faster, so a slow GPU cannot pass for a fast one. The
 * catalog's classes differ by 1.9× or more (RTX 3090 71, A100 312, H100 989 TFLOP/s), so a
 * tolerance under that separates them once the work outweighs the start-up noise.
 *
 * @param efficiency share of the datasheet rate the challenge program reaches (a calibration)
 * @param tolerance factor over the expected compute time still accepted (≥ 1)
 * @param startupAllowance time allowed for the pod to start, on top of the compute time
 */
public record TimingModel(double efficiency, double tolerance, Duration startupAllowance) {
  public TimingModel {
    if (!(efficiency > 0) || efficiency > 1) {
      throw new IllegalArgumentException("efficiency must be in (0, 1], was " + efficiency);
    }
    if (!(tolerance >= 1)) {
      throw new IllegalArgumentException("tolerance must be ≥ 1, was " + tolerance);
    }
    if (startupAllowance == null || startupAllowance.isNegative()) {
      throw new IllegalArgumentException("start-up allowance must be ≥ 0");
    }
  }

  /** Compute seconds an honest node with {@code gpus} GPUs of {@code spec} needs. */
  public double expectedSeconds(Challenge c, GpuSpec spec, int gpus) {
    return c.flops() / (Math.max(1, gpus) * spec.denseTflops() * 1e12 * efficiency);
  }

  /** The latest an honest answer may arrive after the pod was created. */
  public Duration deadline(Challenge c, GpuSpec spec, int gpus) {
    double seconds = expectedSeconds(c, spec, gpus) * tolerance;
    return startupAllowance.plus(Duration.ofMillis((long) Math.ceil(seconds * 1000)));
  }

  /** Dense TFLOP/s per GPU an answer after {@code elapsed} shows, counting no start-up time. */
  public double measuredTflops(Challenge c, Duration elapsed, int gpus) {
    double seconds = Math.max(1e-3, elapsed.toMillis() / 1000.0);
    return c.flops() / (Math.max(1, gpus) * seconds * 1e12 * efficiency);
  }

  /**
   * Rounds of {@code size}-sided products that keep {@code gpus} GPUs of {@code spec} busy for
   * {@code target}: sized to the claimed product, so a false claim shows as a late answer. Capped
   * at what the way of {@code answering} carries: 240 digests in a termination message, which on
   * real GPUs are milliseconds of work; a committed challenge up to {@link
   * Challenge#MAX_COMMITTED_ROUNDS}.
   */
  public int roundsFor(int size, GpuSpec spec, int gpus, Duration target, Answering answering) {
    double perRound = 2.0 * size * size * (double) size;
    double rate = Math.max(1, gpus) * spec.denseTflops() * 1e12 * efficiency;
    double rounds = Math.ceil(target.toMillis() / 1000.0 * rate / perRound);
    return (int) Math.max(1, Math.min(answering.maxRounds(), rounds));
  }
}
