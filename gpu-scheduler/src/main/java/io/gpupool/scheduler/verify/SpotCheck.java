package io.gpupool.scheduler.verify;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/** Judges a verifier's replay of one checkpoint interval against the tolerance. */
public final class SpotCheck {
  private SpotCheck() {}

  /** The three things a replay can show. */
  public enum Outcome {
    /** Every committed step of the interval lies within the tolerance. */
    VERIFIED,
    /** The replay left the tolerance: a referee recomputes {@link Judgement#step}. */
    MISMATCH,
    /** The provider's published snapshots contradict its own commitments: fraud without referee. */
    BROKEN_COMMITMENT
  }

  /**
   * A spot-check's result.
   *
   * @param outcome the class of the result
   * @param step for MISMATCH, the step the bisection narrowed the disagreement to (its predecessor
   *     agrees); otherwise the interval's last step
   * @param probes commitments compared by the bisection (0 unless MISMATCH)
   * @param message what was found, for events and conditions
   */
  public record Judgement(Outcome outcome, long step, int probes, String message) {}

  /** Judges a replay; a report with a committed step missing is a broken commitment. */
  public static Judgement judge(IntervalReport report, double tolerance) {
    if (!report.commitmentsIntact()) {
      return new Judgement(
          Outcome.BROKEN_COMMITMENT,
          report.toStep(),
          0,
          String.format(
              Locale.ROOT,
              "interval %d..%d: published parameters do not match the committed digests",
              report.fromStep(),
              report.toStep()));
    }
    Map<Long, Double> byStep = new TreeMap<>();
    for (StepDistance d : report.distances()) {
      if (d.step() <= report.fromStep() || d.step() > report.toStep()) {
        throw new IllegalArgumentException(
            "commitment at step " + d.step() + " lies outside the interval");
      }
      byStep.put(d.step(), d.distance());
    }
    if (!byStep.containsKey(report.toStep())) {
      return new Judgement(
          Outcome.BROKEN_COMMITMENT,
          report.toStep(),
          0,
          String.format(
              Locale.ROOT,
              "interval %d..%d: no commitment at the checkpoint step %d",
              report.fromStep(),
              report.toStep(),
              report.toStep()));
    }
    double end = byStep.get(report.toStep());
    if (ParameterDistance.within(end, tolerance)) {
      double worst = byStep.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
      return new Judgement(
          Outcome.VERIFIED,
          report.toStep(),
          0,
          String.format(
              Locale.ROOT,
              "interval %d..%d replayed within tolerance %.3g (largest distance %.3g)",
              report.fromStep(),
              report.toStep(),
              tolerance,
              worst));
    }
    List<Long> steps = List.copyOf(byStep.keySet());
    // Bisect over the committed steps (index space): index -1 stands for the agreed checkpoint.
    Bisection.Result found =
        Bisection.firstDiffering(
            -1,
            steps.size() - 1,
            i -> !ParameterDistance.within(byStep.get(steps.get((int) i)), tolerance));
    long step = steps.get((int) found.step());
    long agreed = found.step() == 0 ? report.fromStep() : steps.get((int) found.step() - 1);
    return new Judgement(
        Outcome.MISMATCH,
        step,
        found.probes(),
        String.format(
            Locale.ROOT,
            "interval %d..%d: replay differs by %.3g at step %d (tolerance %.3g), agrees at step %d",
            report.fromStep(),
            report.toStep(),
            byStep.get(step),
            step,
            tolerance,
            agreed));
  }

  /**
   * Which rank a referee recomputes when several ranks' replays differ: the one whose bisected step
   * comes first (the lowest rank on a tie), empty when no rank's replay is a mismatch. In
   * data-parallel training the ranks share one replay, so the choice changes nothing; in a pipeline
   * a stage's wrong step makes the other stages differ from the next step on (its wrong layers are
   * in their forward and backward passes), and a referee recomputing such a later step from the
   * committed states before it would build on the wrong stage's state and clear the stage it
   * refereed.
   *
   * @param byRank each rank's judgement of the same interval
   */
  public static OptionalInt firstMismatch(Map<Integer, Judgement> byRank) {
    OptionalInt first = OptionalInt.empty();
    long firstStep = Long.MAX_VALUE;
    for (Map.Entry<Integer, Judgement> e : new TreeMap<>(byRank).entrySet()) {
      Judgement j = e.getValue();
      if (j.outcome() == Outcome.MISMATCH && j.step() < firstStep) {
        first = OptionalInt.of(e.getKey());
        firstStep = j.step();
      }
    }
    return first;
  }
}
