package io.gpupool.billing.budget;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.EscrowState;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.metering.Metering;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Objects;

/**
 * Budget questions the operator asks before starting a job (condition InsufficientFunds) and while
 * it runs (suspension when the escrow runs dry). Available money is the payer's escrow minus what
 * it is thawing (it may leave) minus what was metered but not yet settled (it will be taken).
 */
public final class BudgetService {

  private final BillingChain chain;
  private final BillingLedger ledger;

  public BudgetService(BillingChain chain, BillingLedger ledger) {
    this.chain = Objects.requireNonNull(chain, "chain");
    this.ledger = Objects.requireNonNull(ledger, "ledger");
  }

  /**
   * Can {@code payer} cover {@code interval} more at {@code weiPerHour}, on top of what it owes?
   */
  public BudgetVerdict canCover(String payer, BigInteger weiPerHour, Duration interval) {
    BigInteger required =
        ceilDiv(
            weiPerHour.multiply(BigInteger.valueOf(interval.toMillis())),
            BigInteger.valueOf(3_600_000L));
    return verdict(payer, required);
  }

  /**
   * Can {@code payer} cover {@code milliGpus} at {@code priceWeiPerGpuHour} for {@code interval}?
   */
  public BudgetVerdict canCover(
      String payer, long milliGpus, BigInteger priceWeiPerGpuHour, Duration interval) {
    return verdict(payer, Metering.costCeiling(milliGpus, priceWeiPerGpuHour, interval));
  }

  /**
   * Is {@code payer}'s escrow used up by what it already owes? ({@code sufficient} is then false.)
   */
  public BudgetVerdict isDry(String payer) {
    BudgetVerdict v = verdict(payer, BigInteger.ZERO);
    boolean left = v.headroomWei().signum() > 0;
    return new BudgetVerdict(
        v.payer(), v.escrowWei(), v.committedWei(), v.outstandingWei(), BigInteger.ZERO, left);
  }

  private BudgetVerdict verdict(String payer, BigInteger required) {
    String p = PairId.normaliseAddress(payer, "payer");
    EscrowState e = chain.escrow(p);
    BigInteger outstanding = ledger.payerOutstandingWei(p);
    BigInteger headroom = e.committedWei().subtract(outstanding).subtract(required);
    return new BudgetVerdict(
        p, e.balanceWei(), e.committedWei(), outstanding, required, headroom.signum() >= 0);
  }

  private static BigInteger ceilDiv(BigInteger a, BigInteger b) {
    BigInteger[] qr = a.divideAndRemainder(b);
    return qr[1].signum() == 0 ? qr[0] : qr[0].add(BigInteger.ONE);
  }
}
