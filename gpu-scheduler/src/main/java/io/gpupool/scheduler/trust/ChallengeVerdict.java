package io.gpupool.scheduler.trust;

import io.gpupool.scheduler.model.GpuSpec;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * What a challenge showed about a node, with a message a person can act on.
 *
 * @param outcome the class of the result
 * @param message what was measured against what was expected
 * @param speedFactor the share of the claimed product's speed the node is rated at after this
 *     verdict: 1 when it kept up with its claim, the measured share when {@link Outcome#SLOWER},
 *     its earlier rating when it kept up with that
 */
public record ChallengeVerdict(Outcome outcome, String message, double speedFactor) {

  /** A verdict that leaves the node at its claimed speed. */
  public ChallengeVerdict(Outcome outcome, String message) {
    this(outcome, message, 1.0);
  }

  /** The results a challenge can have. */
  public enum Outcome {
    /**
     * A correct answer within the claimed product's time, or within the time of the speed it was
     * rated at by an earlier {@link #SLOWER} verdict ({@link #speedFactor} says which).
     */
    PASSED,
    /**
     * A correct answer, later than the claimed product allows but not grossly so: the node is rated
     * at the measured share of the claimed speed ({@link #speedFactor}) instead of being
     * quarantined as a cheat.
     */
    SLOWER,
    /** An answer whose checked rounds do not match: evidence of fraud (or broken hardware). */
    WRONG_RESULT,
    /**
     * A node that committed to its products ({@link LeafOpenings}) and did not open the leaves the
     * operator asked for: missing, late, off the committed root, or malformed. Treated as fraud
     * like {@link #WRONG_RESULT}: it committed digests it cannot show.
     */
    FAILED_OPENING,
    /**
     * No correct answer within the claimed product's time (and, when speed correction is on, none
     * at a speed it could be rated at): the product claim is false, and treated as fraud.
     */
    TOO_SLOW
  }

  /**
   * Classifies a challenge without speed correction: a correct answer after the claimed product's
   * deadline is {@link Outcome#TOO_SLOW}.
   */
  public static Optional<ChallengeVerdict> classify(
      Challenge c,
      Optional<String> answer,
      Duration elapsed,
      GpuSpec claimed,
      int gpus,
      TimingModel timing,
      RandomGenerator random,
      int samples) {
    return classify(
        c,
        answer,
        elapsed,
        Optional.empty(),
        claimed,
        gpus,
        timing,
        random,
        samples,
        new SpeedCorrection(1.0, 1.0));
  }

  /**
   * How a node's speed may be corrected instead of quarantined.
   *
   * @param rated the share of the claimed speed the node is rated at now (1: not corrected)
   * @param fraudBelow the least share a node may be rated at: an answer slower than that (a gross
   *     mismatch, like an RTX 3090 claiming an H100 at 7 %) is fraud; 1 turns correction off
   */
  public record SpeedCorrection(double rated, double fraudBelow) {
    public SpeedCorrection {
      if (!(rated > 0) || rated > 1 || !(fraudBelow > 0) || fraudBelow > 1) {
        throw new IllegalArgumentException(
            "speed shares must be in (0, 1], were " + rated + " and " + fraudBelow);
      }
    }
  }

  /**
   * Classifies a challenge.
   *
   * <p>A correct answer within the claimed product's deadline passes (and restores a corrected node
   * to its claimed speed); within the deadline of the speed the node is rated at it passes at that
   * rating. Later, but within the deadline of {@code speed.fraudBelow()} of the claimed speed, the
   * node is rated at the speed measured ({@link Outcome#SLOWER}) — unless it had been corrected
   * already (slower again than its own rating: a repeated mismatch) or the measured share is under
   * {@code fraudBelow}; those, and no answer by then, are {@link Outcome#TOO_SLOW}.
   *
   * @param answer the node's answer, empty when none arrived (yet)
   * @param elapsed operator-clock time from creating the pod to the answer (or to now)
   * @param running operator-clock time from creating the pod to first seeing it running, if seen:
   *     the measured compute time starts there (the node can only make it later, so at most it
   *     rates itself slower; the rating is never above what the start-up allowance grants)
   * @param claimed the figures of the product the node's labels claim
   * @return empty while no answer arrived and the last deadline has not passed
   */
  public static Optional<ChallengeVerdict> classify(
      Challenge c,
      Optional<String> answer,
      Duration elapsed,
      Optional<Duration> running,
      GpuSpec claimed,
      int gpus,
      TimingModel timing,
      RandomGenerator random,
      int samples,
      SpeedCorrection speed) {
    Optional<Optional<ChallengeVerdict>> checked =
        answer.map(
            a ->
                ChallengeCheck.problem(c, a, random, samples)
                    .map(p -> new ChallengeVerdict(Outcome.WRONG_RESULT, "wrong result: " + p)));
    return judge(c, checked, elapsed, running, claimed, gpus, timing, speed);
  }

  /**
   * Classifies a commit-then-open challenge ({@link LeafOpenings}): the commitment's arrival is the
   * answer's time, the openings' check its correctness.
   *
   * @param opened empty while no commitment arrived; else what was wrong with the openings (empty
   *     when every asked leaf opened to the root with the product's digest)
   * @param elapsed operator-clock time from creating the pod to the commitment (or to now)
   */
  public static Optional<ChallengeVerdict> classifyOpened(
      Challenge c,
      Optional<Optional<LeafOpenings.Problem>> opened,
      Duration elapsed,
      Optional<Duration> running,
      GpuSpec claimed,
      int gpus,
      TimingModel timing,
      SpeedCorrection speed) {
    Optional<Optional<ChallengeVerdict>> checked =
        opened.map(
            problem ->
                problem.map(
                    p ->
                        new ChallengeVerdict(
                            p.wrongResult() ? Outcome.WRONG_RESULT : Outcome.FAILED_OPENING,
                            p.wrongResult() ? p.message() : "failed opening: " + p.message())));
    return judge(c, checked, elapsed, running, claimed, gpus, timing, speed);
  }

  /**
   * The timing half of a verdict: {@code checked} is empty while no answer arrived, else the
   * verdict its correctness check gave (empty when correct).
   */
  private static Optional<ChallengeVerdict> judge(
      Challenge c,
      Optional<Optional<ChallengeVerdict>> checked,
      Duration elapsed,
      Optional<Duration> running,
      GpuSpec claimed,
      int gpus,
      TimingModel timing,
      SpeedCorrection speed) {
    ChallengeRate rate = timing.rate(claimed, c.size());
    Duration deadline = timing.deadline(c, rate, gpus);
    Duration ratedDeadline = timing.deadline(c, rate.atShare(speed.rated()), gpus);
    Duration lastDeadline =
        max(ratedDeadline, timing.deadline(c, rate.atShare(speed.fraudBelow()), gpus));
    String expected =
        String.format(
            Locale.ROOT,
            "%d × %s needs about %.1f s of compute at %s, answer due within %.1f s",
            gpus,
            claimed.product(),
            timing.expectedSeconds(c, rate, gpus),
            rate.basis(),
            deadline.toMillis() / 1000.0);
    if (checked.isPresent()) {
      if (checked.get().isPresent()) {
        return checked.get();
      }
      if (elapsed.compareTo(deadline) > 0 && elapsed.compareTo(ratedDeadline) <= 0) {
        return Optional.of(
            new ChallengeVerdict(
                Outcome.PASSED,
                String.format(
                    Locale.ROOT,
                    "correct answer after %.1f s, in time for its corrected rating of %s; %s",
                    elapsed.toMillis() / 1000.0,
                    percent(speed.rated()),
                    expected),
                speed.rated()));
      }
      if (elapsed.compareTo(deadline) > 0 && elapsed.compareTo(lastDeadline) <= 0) {
        double measured = measuredShare(c, elapsed, running, claimed, gpus, timing);
        String figures =
            String.format(
                Locale.ROOT,
                "correct but slow: answered after %.1f s, computing at about %s of %s; %s",
                elapsed.toMillis() / 1000.0,
                percent(measured),
                claimed.product(),
                expected);
        if (speed.rated() < 1) {
          return Optional.of(
              new ChallengeVerdict(
                  Outcome.TOO_SLOW,
                  figures
                      + "; slower again than its corrected rating of "
                      + percent(speed.rated())
                      + ": a repeated mismatch"));
        }
        if (measured < speed.fraudBelow()) {
          return Optional.of(
              new ChallengeVerdict(
                  Outcome.TOO_SLOW,
                  figures
                      + "; under the "
                      + percent(speed.fraudBelow())
                      + " a node may be corrected to: a gross mismatch"));
        }
        return Optional.of(new ChallengeVerdict(Outcome.SLOWER, figures, measured));
      }
      if (elapsed.compareTo(deadline) > 0) {
        return Optional.of(
            new ChallengeVerdict(
                Outcome.TOO_SLOW,
                String.format(
                    Locale.ROOT,
                    "correct but slow: answered after %.1f s (≈ %s at most); %s",
                    elapsed.toMillis() / 1000.0,
                    rate.speed(timing.observedRate(c, elapsed, gpus)),
                    expected)));
      }
      return Optional.of(
          new ChallengeVerdict(
              Outcome.PASSED,
              String.format(
                  Locale.ROOT,
                  "correct answer after %.1f s; %s",
                  elapsed.toMillis() / 1000.0,
                  expected)));
    }
    if (elapsed.compareTo(lastDeadline) > 0) {
      return Optional.of(
          new ChallengeVerdict(
              Outcome.TOO_SLOW,
              String.format(
                  Locale.ROOT,
                  "no answer after %.1f s; %s",
                  elapsed.toMillis() / 1000.0,
                  expected)));
    }
    return Optional.empty();
  }

  /**
   * The share of the claimed speed an answer after {@code elapsed} shows, rounded down to a
   * hundredth (at least 0.01). Compute time is counted from first seeing the pod running (from its
   * creation when it was never seen running); the share is never above what granting the whole
   * start-up allowance would give, so a node that hides its start cannot rate itself faster.
   */
  static double measuredShare(
      Challenge c,
      Duration elapsed,
      Optional<Duration> running,
      GpuSpec claimed,
      int gpus,
      TimingModel timing) {
    double expected = timing.expectedSeconds(c, claimed, gpus);
    double total = elapsed.toMillis() / 1000.0;
    double started = running.map(r -> r.toMillis() / 1000.0).orElse(0.0);
    double share = expected / Math.max(1e-3, total - Math.max(0, Math.min(started, total)));
    double allowance = timing.startupAllowance().toMillis() / 1000.0;
    if (total > allowance) {
      share = Math.min(share, expected / (total - allowance));
    }
    return Math.max(0.01, Math.min(1.0, Math.floor(share * 100) / 100));
  }

  private static String percent(double share) {
    return String.format(Locale.ROOT, "%.0f %%", share * 100);
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
