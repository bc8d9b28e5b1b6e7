package io.gpupool.scheduler.trust;

import io.gpupool.scheduler.model.GpuSpec;
import java.time.Duration;

/**
 * How long an honest node of the claimed product takes: the challenge's rounds at the product's
 * {@link ChallengeRate}, shared by the node's GPUs, plus a start-up allowance for creating the pod
 * and starting the container. The rate is the challenge program's own, measured on the product by
 * the pool's operator ({@code measured}, at the challenge's size), or else the catalog's dense
 * TFLOP/s at {@code efficiency}.
 *
 * <p>Time is measured on the operator's clock, from creating the pod to seeing its answer: a node
 * can make itself look slower but never faster, so a slow GPU cannot pass for a fast one. The
 * catalog's classes differ by 1.9× or more (RTX 3090 71, A100 312, H100 989 TFLOP/s), so a
 * tolerance under that separates them once the work outweighs the start-up noise.
 *
 * <p>A node rated below its claim (speed correction) is timed at {@code rate(spec,
 * size).atShare(share)}, not at {@code spec.atSpeed(share)}: a measured rate belongs to the
 * product, whatever the figures of the spec it is looked up with.
 *
 * @param efficiency share of the datasheet rate the challenge program reaches on products without a
 *     measured rate
 * @param tolerance factor over the expected compute time still accepted (≥ 1)
 * @param startupAllowance time allowed for the pod to start, on top of the compute time
 * @param measured the challenge program's rates measured per product
 */
public record TimingModel(
    double efficiency, double tolerance, Duration startupAllowance, MeasuredRates measured) {
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
    if (measured == null) {
      throw new IllegalArgumentException("measured rates must be given (MeasuredRates.none())");
    }
  }

  /** A timing model with no measured rate: every product timed by the catalog. */
  public TimingModel(double efficiency, double tolerance, Duration startupAllowance) {
    this(efficiency, tolerance, startupAllowance, MeasuredRates.none());
  }

  /** The rate an honest GPU of {@code spec} answers challenges of {@code size} at. */
  public ChallengeRate rate(GpuSpec spec, int size) {
    return measured
        .at(spec.product(), size)
        .map(ChallengeRate::measured)
        .orElseGet(() -> ChallengeRate.catalog(spec, size, efficiency));
  }

  /** Compute seconds an honest node with {@code gpus} GPUs at {@code rate} needs. */
  public double expectedSeconds(Challenge c, ChallengeRate rate, int gpus) {
    return c.rounds() / (Math.max(1, gpus) * rate.roundsPerSecond());
  }

  /** Compute seconds an honest node with {@code gpus} GPUs of {@code spec} needs. */
  public double expectedSeconds(Challenge c, GpuSpec spec, int gpus) {
    return expectedSeconds(c, rate(spec, c.size()), gpus);
  }

  /** The latest an honest answer at {@code rate} may arrive after the pod was created. */
  public Duration deadline(Challenge c, ChallengeRate rate, int gpus) {
    double seconds = expectedSeconds(c, rate, gpus) * tolerance;
    return startupAllowance.plus(Duration.ofMillis((long) Math.ceil(seconds * 1000)));
  }

  /** The latest an honest answer of {@code spec}'s GPUs may arrive after the pod was created. */
  public Duration deadline(Challenge c, GpuSpec spec, int gpus) {
    return deadline(c, rate(spec, c.size()), gpus);
  }

  /** Rounds per second per GPU an answer after {@code elapsed} shows, counting no start-up time. */
  public double observedRate(Challenge c, Duration elapsed, int gpus) {
    double seconds = Math.max(1e-3, elapsed.toMillis() / 1000.0);
    return c.rounds() / (Math.max(1, gpus) * seconds);
  }

  /** Dense TFLOP/s per GPU an answer after {@code elapsed} shows, counting no start-up time. */
  public double measuredTflops(Challenge c, Duration elapsed, int gpus) {
    return ChallengeRate.tflops(observedRate(c, elapsed, gpus), c.size(), efficiency);
  }

  /**
   * Rounds that keep {@code gpus} GPUs at {@code rate} busy for {@code target}: sized to the
   * claimed product, so a false claim shows as a late answer. Capped at what the way of {@code
   * answering} carries: 240 digests in a termination message; a committed challenge up to {@link
   * Challenge#MAX_COMMITTED_ROUNDS}.
   */
  public int roundsFor(ChallengeRate rate, int gpus, Duration target, Answering answering) {
    double rounds =
        Math.ceil(target.toMillis() / 1000.0 * Math.max(1, gpus) * rate.roundsPerSecond());
    return (int) Math.max(1, Math.min(answering.maxRounds(), rounds));
  }

  /** Rounds of {@code size} that keep {@code gpus} GPUs of {@code spec} busy for {@code target}. */
  public int roundsFor(int size, GpuSpec spec, int gpus, Duration target, Answering answering) {
    return roundsFor(rate(spec, size), gpus, target, answering);
  }
}
