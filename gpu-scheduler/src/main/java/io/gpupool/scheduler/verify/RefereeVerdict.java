package io.gpupool.scheduler.verify;

import java.util.Locale;

/**
 * Who was wrong about one step, decided by a referee on a third provider.
 *
 * <p>The referee starts from the parameters both sides agree on (the step before the one the
 * bisection found), recomputes that one step, and measures its result against the provider's
 * committed parameters and against the verifier's replay. Only a clear answer blames one side: the
 * provider when the referee agrees with the verifier alone, the verifier when it agrees with the
 * provider alone. Anything else (both within, both beyond) is inconclusive and blames nobody: a
 * slash needs a localized, reproduced fault.
 *
 * @param outcome who the referee sided against
 * @param message the distances and what they mean
 */
public record RefereeVerdict(Outcome outcome, String message) {

  /** What a referee's recomputation shows. */
  public enum Outcome {
    /** The provider's committed step is off and the verifier's replay is right: fraud. */
    PROVIDER_AT_FAULT,
    /** The verifier was wrong; the provider's step stands. */
    VERIFIER_AT_FAULT,
    /** The referee cannot attribute the difference; no dispute. */
    INCONCLUSIVE
  }

  /**
   * @param step the step recomputed
   * @param toProvider relative distance of the referee's result to the provider's commitment
   * @param toVerifier relative distance of the referee's result to the verifier's replay
   */
  public static RefereeVerdict decide(
      long step, double toProvider, double toVerifier, double tolerance) {
    boolean providerRight = ParameterDistance.within(toProvider, tolerance);
    boolean verifierRight = ParameterDistance.within(toVerifier, tolerance);
    String figures =
        String.format(
            Locale.ROOT,
            "step %d recomputed: %.3g from the provider's parameters, %.3g from the verifier's"
                + " (tolerance %.3g)",
            step,
            toProvider,
            toVerifier,
            tolerance);
    if (verifierRight && !providerRight) {
      return new RefereeVerdict(Outcome.PROVIDER_AT_FAULT, figures);
    }
    if (providerRight && !verifierRight) {
      return new RefereeVerdict(Outcome.VERIFIER_AT_FAULT, figures);
    }
    return new RefereeVerdict(Outcome.INCONCLUSIVE, figures);
  }
}
