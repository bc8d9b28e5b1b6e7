package io.gpupool.operator.trust;

import io.gpupool.scheduler.model.GpuSpec;
import io.gpupool.scheduler.trust.Answering;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.TimingModel;
import java.time.Duration;

/**
 * How many rounds the operator gives a node: enough to keep the claimed GPUs busy for {@code
 * target}, within what the way of answering carries and the configured {@code maxRounds}.
 *
 * <p>{@code maxRounds} exists because the timing model counts a round as its matrix product at
 * {@code efficiency} of the datasheet TFLOP/s, while the challenge program also generates the
 * round's 2n² inputs with 64-bit integer arithmetic, which on a GPU is bound by memory bandwidth,
 * not by the tensor cores (docs/trust.md, "Hardware challenges"): sized by TFLOP/s alone, millions
 * of rounds would make honest fast GPUs late. Until the program's rate on a pool's GPUs is measured
 * ({@code challenge.py --bench}) the default keeps the 240 rounds of a termination message.
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
    return Math.min(maxRounds, timing.roundsFor(size, spec, gpus, target, answering));
  }
}
