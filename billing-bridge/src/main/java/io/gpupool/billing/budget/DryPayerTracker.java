package io.gpupool.billing.budget;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns repeated {@link BudgetService#isDry} answers into a suspension decision with a grace
 * period: a payer whose escrow has been dry for {@code grace} without interruption should have its
 * running jobs suspended; a top-up in between resets the clock. In memory: after a restart the
 * grace period starts again (suspending later, never earlier).
 */
public final class DryPayerTracker {

  /** Where a payer stands. */
  public enum State {
    /** Escrow covers what is owed. */
    FUNDED,
    /** Dry, but for less than the grace period. */
    DRY_IN_GRACE,
    /** Dry for at least the grace period: suspend its running jobs. */
    SUSPEND
  }

  /**
   * A decision for one payer.
   *
   * @param payer the payer
   * @param state what to do
   * @param drySince when the current dry spell was first observed ({@code null} if funded)
   * @param suspendAt when the grace period ends ({@code null} if funded)
   */
  public record Decision(String payer, State state, Instant drySince, Instant suspendAt) {}

  private final Duration grace;
  private final Clock clock;
  private final Map<String, Instant> drySince = new ConcurrentHashMap<>();

  public DryPayerTracker(Duration grace, Clock clock) {
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace must be >= 0");
    }
    this.grace = grace;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** Record the latest dry check of a payer ({@code sufficient == false} means dry). */
  public Decision observe(BudgetVerdict dryCheck) {
    String payer = dryCheck.payer();
    if (dryCheck.sufficient()) {
      drySince.remove(payer);
      return new Decision(payer, State.FUNDED, null, null);
    }
    Instant now = clock.instant();
    Instant since = drySince.computeIfAbsent(payer, p -> now);
    Instant suspendAt = since.plus(grace);
    State state = now.isBefore(suspendAt) ? State.DRY_IN_GRACE : State.SUSPEND;
    return new Decision(payer, state, since, suspendAt);
  }
}
