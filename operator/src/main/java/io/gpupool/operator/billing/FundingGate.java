package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.Usage;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.budget.BudgetService;
import io.gpupool.billing.budget.BudgetVerdict;
import io.gpupool.billing.budget.DryPayerTracker;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.operator.config.GpupoolConfig;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * May a job start, may it keep running: its namespace must be bound to the account that pays,
 * within the account's limits, and the payer's escrow must cover it (at start: the next settlement
 * interval; while running: what it owes, with a grace period once dry). Every job may while billing
 * is off; the escrow is read from the chain settlement runs on ({@link #settleWith}).
 */
final class FundingGate {
  private final BillingAccounts accounts;
  private final GpupoolConfig.Billing settings;
  private final Clock clock;
  private final Function<String, Optional<Usage>> usage;
  private volatile BudgetService budget;
  private volatile DryPayerTracker dry;
  private volatile ChainConnection connection;

  /** {@code usage}: a job's metered usage by UID (what it has spent against its limits). */
  FundingGate(
      BillingAccounts accounts,
      GpupoolConfig.Billing settings,
      Clock clock,
      Function<String, Optional<Usage>> usage) {
    this.accounts = accounts;
    this.settings = settings;
    this.clock = clock;
    this.usage = usage;
  }

  /** Gate on the escrow {@code budget} reads from now on (both null: billing is off). */
  void settleWith(BudgetService budget, DryPayerTracker dry) {
    this.budget = budget;
    this.dry = dry;
  }

  /**
   * Billing is on, and settlement starts once {@code connection} reaches the contract: until then
   * no job starts (it would run unbilled), and running jobs go on (an unreachable chain never stops
   * them).
   */
  void waitFor(ChainConnection connection) {
    this.connection = connection;
  }

  /** A refusal while billing is on but its contract not yet reached; else null. */
  private Admission notConnected() {
    ChainConnection c = connection;
    if (c == null || c.connected()) {
      return null;
    }
    return new Admission(
        false,
        false,
        Admission.CHAIN_UNAVAILABLE,
        c.problem().orElse("connecting to the billing contract")
            + "; the job starts once the operator has reached it",
        null,
        null);
  }

  /**
   * With billing on, the job's namespace must be bound to the account that pays (issue #18): a
   * refusal carries no figure of any account. Then that account's payer must cover the job.
   */
  Admission admit(HasMetadata job, Budget jobBudget, BigInteger weiPerHour) {
    Admission waiting = notConnected();
    if (waiting != null) {
      return waiting;
    }
    if (budget == null) {
      return Admission.allowed("BillingDisabled", "billing is disabled", null);
    }
    PayerAuthorization.Decision decision = accounts.decide(job, jobBudget);
    if (decision instanceof PayerAuthorization.Refused r) {
      return new Admission(false, false, r.reason(), r.message(), null, null);
    }
    if (decision instanceof PayerAuthorization.Authorized a) {
      Optional<String> limited =
          AccountLimits.atStart(
              a.account(),
              jobBudget,
              weiPerHour == null ? null : TokenUnits.fromWei(nextInterval(weiPerHour)),
              usage.apply(job.getMetadata().getUid()).orElse(null),
              clock.instant());
      if (limited.isPresent()) {
        return new Admission(false, false, AccountLimits.REASON, limited.get(), null, null);
      }
    }
    return escrowCovers(
        decision instanceof PayerAuthorization.Authorized a ? a.payer() : null, weiPerHour);
  }

  /** What {@code weiPerHour} costs over one settlement interval, rounded up. */
  private BigInteger nextInterval(BigInteger weiPerHour) {
    BigInteger[] qr =
        weiPerHour
            .multiply(BigInteger.valueOf(settings.settlementInterval().toMillis()))
            .divideAndRemainder(BigInteger.valueOf(Duration.ofHours(1).toMillis()));
    return qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
  }

  /**
   * Must a running job be stopped? When its namespace no longer may charge its account (unbound: at
   * once, its usage so far is kept and settled), or its payer's escrow has been dry past the grace
   * period.
   */
  Admission whileRunning(HasMetadata job, Budget jobBudget) {
    if (budget == null) {
      return Admission.allowed("BillingDisabled", "billing is disabled", null);
    }
    if (!accounts.synced()) {
      // Not yet read (operator start): never stop a running job on an account not yet seen.
      return Admission.allowed("Funded", "billing accounts not yet read", null);
    }
    PayerAuthorization.Decision decision = accounts.decide(job, jobBudget);
    if (decision instanceof PayerAuthorization.Refused r) {
      return new Admission(false, true, r.reason(), r.message(), null, null);
    }
    if (decision instanceof PayerAuthorization.Authorized a) {
      Optional<String> limited =
          AccountLimits.whileRunning(
              a.account(), usage.apply(job.getMetadata().getUid()).orElse(null), clock.instant());
      if (limited.isPresent()) {
        return new Admission(false, true, AccountLimits.REASON, limited.get(), null, null);
      }
    }
    return whileRunning(decision instanceof PayerAuthorization.Authorized a ? a.payer() : null);
  }

  /**
   * The payer that settles {@code job}'s usage: its account's, when its namespace may charge it;
   * empty when billing is off, the job runs unbilled or is refused.
   */
  Optional<String> payer(HasMetadata job, Budget jobBudget) {
    if (budget == null && !settings.enabled()) {
      // Nothing is settled: the address as written, for the usage records.
      return jobBudget == null || jobBudget.payer == null
          ? Optional.empty()
          : Optional.of(jobBudget.payer);
    }
    return accounts.decide(job, jobBudget) instanceof PayerAuthorization.Authorized a
        ? Optional.of(a.payer())
        : Optional.empty();
  }

  /** May a job paid by {@code payer} (null: no budget) start at {@code weiPerHour}? */
  Admission admit(String payer, BigInteger weiPerHour) {
    Admission waiting = notConnected();
    return waiting != null ? waiting : escrowCovers(payer, weiPerHour);
  }

  /** The escrow half of admission, once the contract is known to be reached (or billing off). */
  private Admission escrowCovers(String payer, BigInteger weiPerHour) {
    BudgetService b = budget;
    if (b == null) {
      return Admission.allowed("BillingDisabled", "billing is disabled", null);
    }
    if (payer == null) {
      return Admission.allowed("NoBudget", "the job has no budget: metered, not settled", null);
    }
    try {
      BudgetVerdict v = b.canCover(payer, weiPerHour, settings.settlementInterval());
      if (v.sufficient()) {
        return Admission.allowed("Funded", "escrow covers the next interval", v);
      }
      return new Admission(
          false,
          false,
          Admission.INSUFFICIENT_FUNDS,
          String.format(
              "payer %s: escrow %s (committed %s) less outstanding %s cannot cover %s for the"
                  + " next %s",
              v.payer(),
              TokenUnits.fromWei(v.escrowWei()).toPlainString(),
              TokenUnits.fromWei(v.committedWei()).toPlainString(),
              TokenUnits.fromWei(v.outstandingWei()).toPlainString(),
              TokenUnits.fromWei(v.requiredWei()).toPlainString(),
              settings.settlementInterval()),
          v,
          null);
    } catch (ChainException e) {
      return new Admission(
          false,
          false,
          Admission.CHAIN_UNAVAILABLE,
          "cannot read the escrow: " + e.getMessage(),
          null,
          null);
    }
  }

  /**
   * Must a running job paid by {@code payer} be suspended? Only once its escrow has been dry for
   * the grace period ({@code gpupool.billing.suspend-grace}); an unreachable chain never suspends.
   */
  Admission whileRunning(String payer) {
    BudgetService b = budget;
    DryPayerTracker d = dry;
    if (b == null || d == null) {
      return Admission.allowed("BillingDisabled", "billing is disabled", null);
    }
    if (payer == null) {
      return Admission.allowed("NoBudget", "the job has no budget: metered, not settled", null);
    }
    try {
      BudgetVerdict v = b.isDry(payer);
      DryPayerTracker.Decision decision = d.observe(v);
      return switch (decision.state()) {
        case FUNDED -> Admission.allowed("Funded", "escrow covers what is owed", v);
        case DRY_IN_GRACE ->
            new Admission(
                true,
                false,
                "EscrowDry",
                "payer " + v.payer() + " has no escrow left; suspended at " + decision.suspendAt(),
                v,
                decision.suspendAt());
        case SUSPEND ->
            new Admission(
                false,
                true,
                Admission.INSUFFICIENT_FUNDS,
                "payer " + v.payer() + " escrow dry since " + decision.drySince(),
                v,
                decision.suspendAt());
      };
    } catch (ChainException e) {
      return Admission.allowed(
          Admission.CHAIN_UNAVAILABLE, "cannot read the escrow: " + e.getMessage(), null);
    }
  }
}
