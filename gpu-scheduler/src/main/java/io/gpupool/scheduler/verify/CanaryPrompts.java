package io.gpupool.scheduler.verify;

import java.util.ArrayList;
import java.util.List;

/**
 * The canary prompts of one cross-check: fixed base prompts, each followed by words drawn with a
 * seed the operator picks at random per check. A provider cannot keep canned answers for the base
 * prompts (every check's prompts are new), and the words come from a plain vocabulary, so a canary
 * reads like ordinary traffic. Pure and deterministic in the seed, so the evidence of a dispute
 * (the seed) reproduces the prompts.
 */
public final class CanaryPrompts {
  static final List<String> BASES =
      List.of(
          "a training job is split over",
          "providers are paid on chain for",
          "when a node disappears the gang",
          "gpupool turns a pool of",
          "each worker takes the batch share",
          "the model is served from replicas on",
          "a checkpoint is saved every",
          "the operator places the job on");

  static final List<String> WORDS =
      List.of(
          "gpu",
          "node",
          "pool",
          "model",
          "train",
          "serve",
          "step",
          "batch",
          "share",
          "chain",
          "paid",
          "time",
          "place",
          "split",
          "worker",
          "replica",
          "provider",
          "region",
          "memory",
          "speed",
          "job",
          "plan",
          "gang",
          "restart",
          "checkpoint",
          "layer",
          "price",
          "token");

  /** Words appended to each base prompt. */
  static final int SUFFIX_WORDS = 4;

  private CanaryPrompts() {}

  /** {@code count} prompts for {@code seed}: distinct bases, each with seeded words after it. */
  public static List<String> forSeed(long seed, int count) {
    if (count < 1 || count > BASES.size()) {
      throw new IllegalArgumentException(
          "between 1 and " + BASES.size() + " canary prompts per check, not " + count);
    }
    long state = seed;
    int first = (int) Long.remainderUnsigned(mix(state += GOLDEN), BASES.size());
    List<String> prompts = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      StringBuilder prompt = new StringBuilder(BASES.get((first + i) % BASES.size()));
      for (int w = 0; w < SUFFIX_WORDS; w++) {
        state += GOLDEN;
        prompt
            .append(' ')
            .append(WORDS.get((int) Long.remainderUnsigned(mix(state), WORDS.size())));
      }
      prompts.add(prompt.toString());
    }
    return prompts;
  }

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  /** SplitMix64's output function. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
