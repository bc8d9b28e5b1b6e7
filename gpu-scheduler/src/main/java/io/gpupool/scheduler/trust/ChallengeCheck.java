package io.gpupool.scheduler.trust;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.random.RandomGenerator;
import java.util.regex.Pattern;

/**
 * Checks a node's answer cheaply: recomputes only {@code samples} rounds, chosen by the operator
 * after the answer arrived, so the node cannot know which of its digests will be looked at. A node
 * that skipped a share p of the rounds passes with probability at most (1 − p)^samples per
 * challenge, and challenges repeat.
 */
public final class ChallengeCheck {
  static final int DIGEST_HEX = 16;
  private static final Pattern HEX = Pattern.compile("[0-9a-f]*");

  private ChallengeCheck() {}

  /** Empty when the answer is right; else what is wrong with it. */
  public static Optional<String> problem(
      Challenge c, String answer, RandomGenerator random, int samples) {
    if (c.rounds() > Challenge.MAX_ANSWERED_ROUNDS) {
      // Also keeps pick() from laying out millions of rounds for a check that cannot pass.
      return Optional.of(
          "a termination-message answer holds at most "
              + Challenge.MAX_ANSWERED_ROUNDS
              + " digests, the challenge has "
              + c.rounds()
              + " rounds");
    }
    String a = answer == null ? "" : answer.trim();
    if (a.length() != c.rounds() * DIGEST_HEX || !HEX.matcher(a).matches()) {
      return Optional.of(
          "malformed answer: expected "
              + c.rounds()
              + " digests of "
              + DIGEST_HEX
              + " hex digits, got "
              + a.length()
              + " characters");
    }
    for (int round : pick(c.rounds(), samples, random)) {
      String expected = ChallengeWork.roundDigest(c, round);
      String got = a.substring(round * DIGEST_HEX, (round + 1) * DIGEST_HEX);
      if (!expected.equals(got)) {
        return Optional.of(
            "round " + round + " of " + c.rounds() + ": digest " + got + ", expected " + expected);
      }
    }
    return Optional.empty();
  }

  /** {@code samples} distinct rounds (all of them when there are fewer), by partial shuffle. */
  static List<Integer> pick(int rounds, int samples, RandomGenerator random) {
    int[] order = new int[rounds];
    for (int i = 0; i < rounds; i++) {
      order[i] = i;
    }
    int k = Math.min(Math.max(1, samples), rounds);
    List<Integer> out = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      int j = i + random.nextInt(rounds - i);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
      out.add(order[i]);
    }
    return out;
  }
}
