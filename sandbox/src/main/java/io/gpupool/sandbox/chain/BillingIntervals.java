package io.gpupool.sandbox.chain;

import java.time.Duration;

/**
 * The operator's billing intervals for a sandbox running {@code timeScale} sandbox seconds per wall
 * second. The operator works in wall time; the production defaults (settle every 60 s, meter every
 * 30 s, suspend after 10 min dry) are divided by the time scale so settlement keeps pace with pods
 * that finish in seconds, within floors that keep anvil and the API server from being polled in a
 * busy loop, and a ceiling so a demo at time scale 1 shows a settlement within seconds.
 *
 * @param settlement time between settlement rounds; also the window a payer's escrow must cover
 * @param metering time between meterings of running pods
 * @param suspendGrace how long a payer's escrow may stay dry before its running jobs are suspended
 */
public record BillingIntervals(Duration settlement, Duration metering, Duration suspendGrace) {

  static final Duration SETTLEMENT_FLOOR = Duration.ofSeconds(1);
  static final Duration SETTLEMENT_CEILING = Duration.ofSeconds(10);
  static final Duration METERING_FLOOR = Duration.ofMillis(500);
  static final Duration GRACE_FLOOR = Duration.ofSeconds(5);
  static final Duration GRACE_CEILING = Duration.ofMinutes(2);

  /** Intervals suited to {@code timeScale} (must be positive). */
  public static BillingIntervals forTimeScale(double timeScale) {
    if (!(timeScale > 0)) {
      throw new IllegalArgumentException("time scale must be positive, got " + timeScale);
    }
    Duration settlement =
        clamp(scaled(Duration.ofSeconds(60), timeScale), SETTLEMENT_FLOOR, SETTLEMENT_CEILING);
    Duration metering = clamp(settlement.dividedBy(2), METERING_FLOOR, settlement);
    Duration grace = clamp(scaled(Duration.ofMinutes(10), timeScale), GRACE_FLOOR, GRACE_CEILING);
    return new BillingIntervals(settlement, metering, grace);
  }

  private static Duration scaled(Duration d, double timeScale) {
    return Duration.ofMillis(Math.round(d.toMillis() / timeScale));
  }

  private static Duration clamp(Duration d, Duration min, Duration max) {
    return d.compareTo(min) < 0 ? min : d.compareTo(max) > 0 ? max : d;
  }
}
