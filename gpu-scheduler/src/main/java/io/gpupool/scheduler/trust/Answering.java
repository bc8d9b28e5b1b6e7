package io.gpupool.scheduler.trust;

/**
 * How a challenge's answer comes back, which bounds how many rounds it may have.
 *
 * <ul>
 *   <li>{@link #TERMINATION_MESSAGE}: every digest, 16 hex digits each, in the pod's termination
 *       message (4096 bytes), so at most {@value Challenge#MAX_ANSWERED_ROUNDS} rounds;
 *   <li>{@link #COMMIT_THEN_OPEN}: one {@link DigestTree} root, then the few leaves the operator
 *       draws ({@link ChallengeWire}), so the rounds are bounded only by what the challenge program
 *       holds: {@value Challenge#MAX_COMMITTED_ROUNDS} (8 bytes of digest each on the node; the
 *       operator's cost does not grow with them beyond ⌈log2 n⌉ + 1 hashes per opening).
 * </ul>
 */
public enum Answering {
  TERMINATION_MESSAGE(Challenge.MAX_ANSWERED_ROUNDS),
  COMMIT_THEN_OPEN(Challenge.MAX_COMMITTED_ROUNDS);

  private final int maxRounds;

  Answering(int maxRounds) {
    this.maxRounds = maxRounds;
  }

  public int maxRounds() {
    return maxRounds;
  }

  /** The way a challenge answers given whether the operator asks for openings. */
  public static Answering of(boolean openings) {
    return openings ? COMMIT_THEN_OPEN : TERMINATION_MESSAGE;
  }
}
