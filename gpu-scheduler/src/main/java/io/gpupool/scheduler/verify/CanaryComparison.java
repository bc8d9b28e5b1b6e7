package io.gpupool.scheduler.verify;

import java.util.List;
import java.util.Locale;

/**
 * Whether two replicas' answers to the same greedy canary agree. Pure.
 *
 * <p><b>Exact tokens</b>: the generated tokens (or the text) are identical. Right for servers whose
 * greedy decoding is deterministic across GPUs (batch-invariant kernels); elsewhere honest GPUs
 * occasionally flip a near tie, which exact comparison calls a disagreement.
 *
 * <p><b>Logprob</b> (both servers report per-token log-probabilities): over the tokens both
 * generated alike, the mean absolute difference of their log-probabilities must stay within the
 * tolerance. Where the tokens first differ, comparison stops (later tokens follow unlike prefixes)
 * and the flip counts as agreement only if it is a near tie: greedy picked a token of probability
 * at most about one half on both servers (a runner-up can then be as likely) and the two
 * log-probabilities are within the tolerance of each other. A server running another model differs
 * in its log-probabilities long before it flips a token, so the tolerance separates the two. Falls
 * back to exact tokens when either answer has no log-probabilities.
 */
public final class CanaryComparison {
  /** ln(0.5): a greedy token above this probability has no runner-up as likely. */
  static final double NEAR_TIE_CEILING = Math.log(0.5);

  /** How answers are compared. */
  public enum Mode {
    EXACT_TOKENS,
    LOGPROB
  }

  /**
   * @param agree whether the answers count as the same
   * @param distance the mean absolute log-probability difference over the compared tokens (0 for
   *     exact comparison)
   * @param why in words, for the evidence and the event
   */
  public record Agreement(boolean agree, double distance, String why) {}

  private final Mode mode;
  private final double tolerance;

  public CanaryComparison(Mode mode, double tolerance) {
    if (!(tolerance >= 0) || Double.isInfinite(tolerance)) {
      throw new IllegalArgumentException("tolerance must be a finite number >= 0: " + tolerance);
    }
    this.mode = mode;
    this.tolerance = tolerance;
  }

  public Mode mode() {
    return mode;
  }

  public Agreement compare(CanaryAnswer a, CanaryAnswer b) {
    if (mode == Mode.LOGPROB && a.hasLogprobs() && b.hasLogprobs()) {
      return logprob(a, b);
    }
    return exact(a, b);
  }

  static Agreement exact(CanaryAnswer a, CanaryAnswer b) {
    List<String> ta = a.tokensOrText();
    List<String> tb = b.tokensOrText();
    if (ta.equals(tb)) {
      return new Agreement(true, 0, "identical tokens");
    }
    int at = firstDifference(ta, tb);
    return new Agreement(false, 0, "tokens differ from token " + at);
  }

  private Agreement logprob(CanaryAnswer a, CanaryAnswer b) {
    List<String> ta = a.tokens();
    List<String> tb = b.tokens();
    int common = Math.min(ta.size(), tb.size());
    double sum = 0;
    int compared = 0;
    for (int i = 0; i < common; i++) {
      double la = a.logprobs().get(i);
      double lb = b.logprobs().get(i);
      if (!ta.get(i).equals(tb.get(i))) {
        double distance = compared == 0 ? 0 : sum / compared;
        boolean nearTie =
            la <= NEAR_TIE_CEILING + tolerance
                && lb <= NEAR_TIE_CEILING + tolerance
                && Math.abs(la - lb) <= tolerance;
        if (nearTie && distance <= tolerance) {
          return new Agreement(
              true,
              distance,
              "near tie flipped at token " + i + ", " + format(distance) + " before");
        }
        return new Agreement(
            false,
            distance,
            "tokens differ from token "
                + i
                + " ("
                + (nearTie ? "mean distance " + format(distance) : "not a near tie: logprobs ")
                + (nearTie ? "" : format(la) + " vs " + format(lb))
                + ")");
      }
      sum += Math.abs(la - lb);
      compared++;
    }
    double distance = compared == 0 ? 0 : sum / compared;
    if (ta.size() != tb.size()) {
      return new Agreement(
          false, distance, "answer lengths differ (" + ta.size() + " vs " + tb.size() + " tokens)");
    }
    if (distance > tolerance) {
      return new Agreement(
          false,
          distance,
          "mean logprob distance " + format(distance) + " above tolerance " + format(tolerance));
    }
    return new Agreement(true, distance, "mean logprob distance " + format(distance));
  }

  private static int firstDifference(List<String> a, List<String> b) {
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      if (!a.get(i).equals(b.get(i))) {
        return i;
      }
    }
    return n;
  }

  private static String format(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }
}
