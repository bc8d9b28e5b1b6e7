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
 */
public record ChallengeVerdict(Outcome outcome, String message) {

  /** The three results a challenge can have. */
  public enum Outcome {
    /** A correct answer within the claimed product's time. */
    PASSED,
    /** An answer whose checked rounds do not match: evidence of fraud (or broken hardware). */
    WRONG_RESULT,
    /** No correct answer within the claimed product's time: the product claim is false. */
    TOO_SLOW
  }

  /**
   * Classifies a challenge.
   *
   * @param answer the node's answer, empty when none arrived (yet)
   * @param elapsed operator-clock time from creating the pod to the answer (or to now)
   * @param claimed the figures of the product the node's labels claim
   * @return empty while no answer arrived and the deadline has not passed
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
    Duration deadline = timing.deadline(c, claimed, gpus);
    String expected =
        String.format(
            Locale.ROOT,
            "%d × %s needs about %.1f s of compute, answer due within %.1f s",
            gpus,
            claimed.product(),
            timing.expectedSeconds(c, claimed, gpus),
            deadline.toMillis() / 1000.0);
    if (answer.isPresent()) {
      Optional<String> problem = ChallengeCheck.problem(c, answer.get(), random, samples);
      if (problem.isPresent()) {
        return Optional.of(
            new ChallengeVerdict(Outcome.WRONG_RESULT, "wrong result: " + problem.get()));
      }
      if (elapsed.compareTo(deadline) > 0) {
        return Optional.of(
            new ChallengeVerdict(
                Outcome.TOO_SLOW,
                String.format(
                    Locale.ROOT,
                    "correct but slow: answered after %.1f s (≈ %.0f TFLOP/s per GPU at most); %s",
                    elapsed.toMillis() / 1000.0,
                    timing.measuredTflops(c, elapsed, gpus),
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
    if (elapsed.compareTo(deadline) > 0) {
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
}
