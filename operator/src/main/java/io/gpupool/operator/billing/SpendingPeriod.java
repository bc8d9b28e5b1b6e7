package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.BillingAccountLimits;
import io.gpupool.api.v1alpha1.BillingAccountStatus;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * A BillingAccount's spending period ({@code spec.limits.period}, default 24h) and what its jobs
 * were metered in it. Periods follow each other back to back from the first one the operator
 * recorded ({@code status.periodStart}); a period that has ended counts as nothing spent. Pure.
 */
public final class SpendingPeriod {
  /** The period when the account names none. */
  public static final Duration DEFAULT = Duration.ofHours(24);

  private SpendingPeriod() {}

  /** The period {@code limits} set, or {@link #DEFAULT}. */
  public static Duration length(BillingAccountLimits limits) {
    String p = limits == null ? null : limits.period;
    if (p == null || !p.matches("[1-9][0-9]{0,3}[mhd]")) {
      return DEFAULT; // the schema refuses other spellings
    }
    long n = Long.parseLong(p.substring(0, p.length() - 1));
    return switch (p.charAt(p.length() - 1)) {
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }

  /**
   * When the period holding {@code now} began: {@code recorded} (null: none yet, the period starts
   * {@code now}) advanced by whole periods.
   */
  public static Instant start(Instant recorded, Duration period, Instant now) {
    if (recorded == null || now.isBefore(recorded)) {
      return recorded == null ? now : recorded;
    }
    long whole = Duration.between(recorded, now).toMillis() / period.toMillis();
    return recorded.plus(period.multipliedBy(whole));
  }

  /** The recorded start of the account's period, or null when none (or unreadable). */
  public static Instant recordedStart(BillingAccountStatus status) {
    if (status == null || status.periodStart == null) {
      return null;
    }
    try {
      return Instant.parse(status.periodStart);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** What the account spent in the period holding {@code now}: zero once its recorded one ended. */
  public static BigDecimal spent(BillingAccountStatus status, Duration period, Instant now) {
    Instant recorded = recordedStart(status);
    if (recorded == null
        || status.spentThisPeriod == null
        || !start(recorded, period, now).equals(recorded)) {
      return BigDecimal.ZERO;
    }
    try {
      return new BigDecimal(status.spentThisPeriod);
    } catch (NumberFormatException e) {
      return BigDecimal.ZERO;
    }
  }
}
