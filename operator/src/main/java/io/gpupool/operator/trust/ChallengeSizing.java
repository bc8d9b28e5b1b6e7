package io.gpupool.operator.trust;

import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Answering;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeRate;
import io.gpupool.scheduler.trust.TimingModel;
import java.time.Duration;

/**
 * How many rounds the operator gives a node: enough to keep the claimed GPUs busy for {@code
 * target} at the product's {@link ChallengeRate}, within what the way of answering carries, and —
 * for a product without a measured rate — within the configured {@code maxRounds}.
 *
 * <p>{@code maxRounds} exists because a product without a measured rate is timed by its datasheet
 * TFLOP/s at {@code efficiency}, while the challenge program also generates the round's 2n² inputs
 * with 64-bit integer arithmetic, which on a GPU is bound by memory bandwidth, not by the tensor
 * cores (docs/trust.md, "Hardware challenges"): sized by TFLOP/s alone, millions of rounds would
 * make honest fast GPUs late. A product the operator measured ({@code challenge.py --bench}, {@code
 * gpupool.trust.challenge.rates}) is sized by that rate, so it gets as many rounds as the target
 * takes.
 */
public record ChallengeSizing(
    TimingModel timing, int size, Duration target, Answering answering, int maxRounds) {
  public ChallengeSizing {
    if (maxRounds < 1 || maxRounds > Challenge.MAX_COMMITTED_ROUNDS) {
      throw new IllegalArgumentException(
          "gpupool.trust.challenge.max-rounds must be 1.."
              + Challenge.MAX_COMMITTED_ROUNDS
              + ", was "
              + maxRounds);
    }
  }

  /** Rounds for {@code gpus} GPUs of the claimed {@code spec}. */
  public int rounds(GpuSpec spec, int gpus) {
    ChallengeRate rate = timing.rate(spec, size);
    int rounds = timing.roundsFor(rate, gpus, target, answering);
    return rate.measured() ? rounds : Math.min(maxRounds, rounds);
  }
}
