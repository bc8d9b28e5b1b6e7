package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.BillingAccountStatus;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.budget.BudgetVerdict;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;

/**
 * A BillingAccount's status from the usage records and the chain: what its payer's jobs were
 * metered (settled or not), which of them are running now, and its escrow. Pure.
 */
public final class AccountFigures {
  private AccountFigures() {}

  /** One job's usage record: who it is, its pairs, and whether a pod of it is still metered. */
  public record JobUsage(JobRef job, List<PairLedger> pairs, boolean running) {}

  /**
   * The status of an account paying from {@code payer}: {@code verdict} is the chain's answer for
   * the payer (null: billing off or chain unreachable, escrow left out).
   */
  public static BillingAccountStatus of(
      String payer, Collection<JobUsage> jobs, BudgetVerdict verdict) {
    String key = payer.toLowerCase(Locale.ROOT);
    BigInteger spent = BigInteger.ZERO;
    TreeSet<String> active = new TreeSet<>();
    for (JobUsage j : jobs) {
      boolean charged = false;
      for (PairLedger l : j.pairs()) {
        if (key.equals(l.pair().payer().toLowerCase(Locale.ROOT))) {
          spent = spent.add(l.meteredWei());
          charged = true;
        }
      }
      if (charged && j.running() && j.job() != null) {
        active.add(j.job().kind() + "/" + j.job().namespace() + "/" + j.job().name());
      }
    }
    BillingAccountStatus s = new BillingAccountStatus();
    s.spent = TokenUnits.fromWei(spent).toPlainString();
    s.activeJobs = active.size();
    s.jobs = active.isEmpty() ? null : new ArrayList<>(active);
    if (verdict != null) {
      s.escrow = TokenUnits.fromWei(verdict.escrowWei()).toPlainString();
      s.committed = TokenUnits.fromWei(verdict.committedWei()).toPlainString();
    }
    return s;
  }

  /** True when {@code a} and {@code b} show the same figures (conditions aside). */
  public static boolean same(BillingAccountStatus a, BillingAccountStatus b) {
    if (a == null || b == null) {
      return a == b;
    }
    return Objects.equals(a.spent, b.spent)
        && Objects.equals(a.activeJobs, b.activeJobs)
        && Objects.equals(a.jobs, b.jobs)
        && Objects.equals(a.escrow, b.escrow)
        && Objects.equals(a.committed, b.committed)
        && Objects.equals(a.spentThisPeriod, b.spentThisPeriod)
        && Objects.equals(a.periodStart, b.periodStart);
  }
}
