package io.gpupool.scheduler.trust;

import java.util.Map;
import java.util.Optional;

/**
 * How a challenge reaches its pod and its answer comes back: the names the operator's pod, the
 * challenge program (examples/workloads/challenge.py) and the sandbox's kubelet share.
 */
public final class ChallengeEnv {
  /** Label on challenge pods naming the node under test (no job labels: never metered). */
  public static final String NODE_LABEL = "gpupool.io/challenge-node";

  public static final String NONCE = "GPUPOOL_CHALLENGE_NONCE";
  public static final String SIZE = "GPUPOOL_CHALLENGE_SIZE";
  public static final String ROUNDS = "GPUPOOL_CHALLENGE_ROUNDS";

  /**
   * Set on commit-then-open challenges: the port the challenge program serves its commitment and
   * openings on ({@link ChallengeWire}); without it, it answers in its termination message.
   */
  public static final String PORT = "GPUPOOL_CHALLENGE_PORT";

  private ChallengeEnv() {}

  /**
   * The challenge a pod's env describes; empty when a value is missing or out of range, including
   * more rounds than its way of answering carries (more than 240 without {@link #PORT}).
   */
  public static Optional<Challenge> parse(Map<String, String> env) {
    try {
      Challenge c =
          new Challenge(
              env.get(NONCE), Integer.parseInt(env.get(SIZE)), Integer.parseInt(env.get(ROUNDS)));
      return c.rounds() <= answering(env).maxRounds() ? Optional.of(c) : Optional.empty();
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** How a pod with this env answers: commit-then-open when it has a port to serve on. */
  public static Answering answering(Map<String, String> env) {
    return Answering.of(env.containsKey(PORT));
  }
}
