package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.BillingAccount;
import io.gpupool.api.v1alpha1.BillingAccountLimits;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.Usage;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A BillingAccount's {@code spec.limits}. {@code maxCostPerJob}: a job whose own cap ({@code
 * spec.budget.maxCost}) is above it, or that has none and would cost more than it over the next
 * settlement interval, does not start; a running job stops once its metered cost reaches it. {@code
 * maxCostPerPeriod}: a job that would push the period's spend past it does not start, and every job
 * of the account stops once the spend reaches it, until the next period or until it is raised.
 * Pure.
 *
 * <p>Messages name the account the job is paid from, its limits and the job's own figures, never
 * the account's spend: other namespaces bound to the same account learn nothing of each other.
 */
public final class AccountLimits {
  /** Condition reason when an account's limit keeps a job from running. */
  public static final String REASON = "AccountLimitReached";

  private AccountLimits() {}

  /**
   * Why a job paid from {@code account} may not start at {@code now}: {@code budget} is its own
   * (null: none), {@code nextInterval} what it would cost over the next settlement interval and
   * {@code usage} what it was metered so far (null: nothing). Empty when it may.
   */
  public static Optional<String> atStart(
      BillingAccount account, Budget budget, BigDecimal nextInterval, Usage usage, Instant now) {
    Optional<String> stop = whileRunning(account, usage, now);
    if (stop.isPresent()) {
      return stop;
    }
    BillingAccountLimits limits = limits(account);
    String name = account.getMetadata().getName();
    Optional<BigDecimal> perJob = decimal(limits.maxCostPerJob);
    Optional<BigDecimal> own = decimal(budget == null ? null : budget.maxCost);
    if (perJob.isPresent() && own.isPresent() && own.get().compareTo(perJob.get()) > 0) {
      return Optional.of(
          "spec.budget.maxCost "
              + plain(own.get())
              + " exceeds BillingAccount "
              + name
              + "'s spec.limits.maxCostPerJob "
              + plain(perJob.get())
              + "; lower it to at most that");
    }
    BigDecimal next = nextInterval == null ? BigDecimal.ZERO : nextInterval;
    if (perJob.isPresent() && own.isEmpty() && next.compareTo(perJob.get()) > 0) {
      return Optional.of(
          "the job's cost for the next settlement interval, "
              + plain(next)
              + ", exceeds BillingAccount "
              + name
              + "'s spec.limits.maxCostPerJob "
              + plain(perJob.get()));
    }
    Optional<BigDecimal> perPeriod = decimal(limits.maxCostPerPeriod);
    if (perPeriod.isPresent()) {
      Duration period = SpendingPeriod.length(limits);
      BigDecimal spent = SpendingPeriod.spent(account.getStatus(), period, now);
      if (spent.add(next).compareTo(perPeriod.get()) > 0) {
        return Optional.of(
            "the job's cost for the next settlement interval, "
                + plain(next)
                + ", would take BillingAccount "
                + name
                + " past its spec.limits.maxCostPerPeriod "
                + plain(perPeriod.get())
                + untilWhen(account, period, now));
      }
    }
    return Optional.empty();
  }

  /**
   * Why a running job paid from {@code account}, metered {@code usage} so far, must stop at {@code
   * now}; empty while both limits leave it room.
   */
  public static Optional<String> whileRunning(BillingAccount account, Usage usage, Instant now) {
    BillingAccountLimits limits = limits(account);
    String name = account.getMetadata().getName();
    Optional<BigDecimal> perJob = decimal(limits.maxCostPerJob);
    Optional<BigDecimal> cost = decimal(usage == null ? null : usage.cost);
    if (perJob.isPresent() && cost.isPresent() && cost.get().compareTo(perJob.get()) >= 0) {
      return Optional.of(
          "cost "
              + plain(cost.get())
              + " reached BillingAccount "
              + name
              + "'s spec.limits.maxCostPerJob "
              + plain(perJob.get())
              + "; raise it to run again");
    }
    Optional<BigDecimal> perPeriod = decimal(limits.maxCostPerPeriod);
    if (perPeriod.isPresent()) {
      Duration period = SpendingPeriod.length(limits);
      if (SpendingPeriod.spent(account.getStatus(), period, now).compareTo(perPeriod.get()) >= 0) {
        return Optional.of(
            "BillingAccount "
                + name
                + " reached its spec.limits.maxCostPerPeriod "
                + plain(perPeriod.get())
                + untilWhen(account, period, now));
      }
    }
    return Optional.empty();
  }

  /** True when {@code account}'s spend this period has reached its {@code maxCostPerPeriod}. */
  public static boolean periodCapReached(BillingAccount account, Instant now) {
    BillingAccountLimits limits = limits(account);
    Optional<BigDecimal> cap = decimal(limits.maxCostPerPeriod);
    return cap.isPresent()
        && SpendingPeriod.spent(account.getStatus(), SpendingPeriod.length(limits), now)
                .compareTo(cap.get())
            >= 0;
  }

  /** When the next period begins, for a message. */
  private static String untilWhen(BillingAccount account, Duration period, Instant now) {
    Instant recorded = SpendingPeriod.recordedStart(account.getStatus());
    Instant next = SpendingPeriod.start(recorded, period, now).plus(period);
    return "; jobs run again from " + next + " or when it is raised";
  }

  private static BillingAccountLimits limits(BillingAccount account) {
    BillingAccountLimits l = account.getSpec() == null ? null : account.getSpec().limits;
    return l == null ? new BillingAccountLimits() : l;
  }

  private static Optional<BigDecimal> decimal(String s) {
    if (s == null || s.isBlank()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new BigDecimal(s.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty(); // the schema refuses a malformed amount before it gets here
    }
  }

  private static String plain(BigDecimal d) {
    BigDecimal s = d.stripTrailingZeros();
    return (s.scale() < 0 ? s.setScale(0) : s).toPlainString();
  }
}
