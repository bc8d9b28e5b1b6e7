package io.gpupool.operator.billing;

import io.gpupool.billing.budget.BudgetVerdict;
import java.time.Instant;

/**
 * The budget gate's answer for one job.
 *
 * @param mayRun false: do not start the job (condition {@code reason}, e.g. InsufficientFunds)
 * @param mustSuspend true: suspend the running job, its payer's escrow has been dry past the grace
 * @param reason condition reason: {@code Funded}, {@code BillingDisabled}, {@code NoBudget}, {@code
 *     InsufficientFunds}, {@code EscrowDry} (running, in grace) or {@code BillingChainUnavailable}
 * @param message human-readable detail for the condition
 * @param verdict the figures behind it, or null when the chain was not asked
 * @param suspendAt when a dry payer's running jobs are to be suspended, else null
 */
public record Admission(
    boolean mayRun,
    boolean mustSuspend,
    String reason,
    String message,
    BudgetVerdict verdict,
    Instant suspendAt) {

  public static final String INSUFFICIENT_FUNDS = "InsufficientFunds";

  /** The billing contract cannot be read (not yet reached, or a read failed). */
  public static final String CHAIN_UNAVAILABLE = "BillingChainUnavailable";

  /** Why a running job was stopped, for its condition and Warning event. */
  public String stopMessage() {
    return INSUFFICIENT_FUNDS.equals(reason)
        ? "escrow dry past the grace period: " + message
        : message;
  }

  static Admission allowed(String reason, String message, BudgetVerdict verdict) {
    return new Admission(true, false, reason, message, verdict, null);
  }
}
