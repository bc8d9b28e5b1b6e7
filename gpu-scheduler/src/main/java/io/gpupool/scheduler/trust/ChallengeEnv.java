package io.gpupool.scheduler.trust;

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

  /** The challenge an env describes; empty when a value is missing or out of range. */
  public static java.util.Optional<Challenge> parse(String nonce, String size, String rounds) {
    try {
      return java.util.Optional.of(
          new Challenge(nonce, Integer.parseInt(size), Integer.parseInt(rounds)));
    } catch (RuntimeException e) {
      return java.util.Optional.empty();
    }
  }
}
