package io.gpupool.scheduler.verify;

import java.util.function.LongPredicate;

/**
 * Narrows a disagreement over an interval of steps to one step.
 *
 * <p>Given that both sides agree at step {@code lo} (the verified checkpoint) and disagree at
 * {@code hi} (the next checkpoint), halving finds a step s with agreement at s - 1 and disagreement
 * at s in ⌈log2(hi - lo)⌉ probes. Such a step always exists, whether or not disagreement persists
 * once it starts; when it does persist (the usual case: a wrong step poisons every later one) s is
 * the first differing step. Only step s then needs recomputing by a referee, from the state both
 * sides agree on.
 */
public final class Bisection {
  private Bisection() {}

  /**
   * The step found and how many times {@code differs} was asked.
   *
   * @param step a step whose predecessor agrees and which differs
   * @param probes calls of the predicate
   */
  public record Result(long step, int probes) {}

  /**
   * Finds a step s in (lo, hi] with !differs(s - 1) and differs(s).
   *
   * @param lo a step both sides agree on (not probed)
   * @param hi a step where they differ (not probed), greater than lo
   * @param differs whether the sides differ at a step, asked only for steps in (lo, hi)
   */
  public static Result firstDiffering(long lo, long hi, LongPredicate differs) {
    if (hi <= lo) {
      throw new IllegalArgumentException("empty interval (" + lo + ", " + hi + "]");
    }
    long agree = lo;
    long differ = hi;
    int probes = 0;
    while (differ - agree > 1) {
      long mid = agree + (differ - agree) / 2;
      probes++;
      if (differs.test(mid)) {
        differ = mid;
      } else {
        agree = mid;
      }
    }
    return new Result(differ, probes);
  }
}
