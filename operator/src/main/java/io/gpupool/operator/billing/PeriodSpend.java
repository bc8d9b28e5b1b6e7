package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.BillingAccountStatus;
import io.gpupool.billing.TokenUnits;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Adds up what each payer's jobs were metered since the last metering pass, for the accounts' spend
 * this period. The usage records only hold each job's total so far, so each pass counts how much
 * each job's total grew; a job dropped from the records (settled and forgotten) adds nothing. The
 * first pass after the operator starts only takes note of the totals: spend metered while no
 * operator was leading (at most one metering interval's worth) is not counted. One metering thread
 * uses it.
 */
final class PeriodSpend {
  /** Per job UID, per payer (lower case): the metered total seen at the last pass. */
  private Map<String, Map<String, BigInteger>> seen;

  /** One account's period, as this operator last wrote it. */
  record Period(Instant start, BigInteger spentWei) {}

  private final Map<String, Period> periods = new HashMap<>();

  /**
   * How much each payer (lower case) was metered since the last call; empty at the first call.
   * {@code jobs}: every job's pairs, by job UID.
   */
  Map<String, BigInteger> advance(Map<String, List<PairLedger>> jobs) {
    Map<String, Map<String, BigInteger>> now = new HashMap<>();
    jobs.forEach(
        (uid, pairs) -> {
          Map<String, BigInteger> byPayer = new HashMap<>();
          for (PairLedger l : pairs) {
            byPayer.merge(
                l.pair().payer().toLowerCase(Locale.ROOT), l.meteredWei(), BigInteger::add);
          }
          now.put(uid, byPayer);
        });
    Map<String, BigInteger> grown = new HashMap<>();
    if (seen != null) {
      now.forEach(
          (uid, byPayer) -> {
            Map<String, BigInteger> before = seen.getOrDefault(uid, Map.of());
            byPayer.forEach(
                (payer, total) -> {
                  BigInteger d = total.subtract(before.getOrDefault(payer, BigInteger.ZERO));
                  if (d.signum() > 0) {
                    grown.merge(payer, d, BigInteger::add);
                  }
                });
          });
    }
    seen = now;
    return grown;
  }

  /**
   * The account (by UID) whose status is {@code status} after its payer was metered {@code grown}
   * more at {@code now}: writes {@code spentThisPeriod} and {@code periodStart} into {@code into}.
   * A period that ended starts over from zero; the figures this operator wrote last win over the
   * status read, which may not show them yet.
   */
  void record(
      String accountUid,
      BillingAccountStatus status,
      Duration period,
      BigInteger grown,
      Instant now,
      BillingAccountStatus into) {
    Period last = periods.get(accountUid);
    if (last == null) {
      Instant recorded = SpendingPeriod.recordedStart(status);
      BigDecimal spent =
          recorded == null ? BigDecimal.ZERO : SpendingPeriod.spent(status, period, recorded);
      last = new Period(recorded, TokenUnits.toWei(spent));
    }
    Instant start = SpendingPeriod.start(last.start(), period, now);
    BigInteger spent = start.equals(last.start()) ? last.spentWei() : BigInteger.ZERO;
    Period next = new Period(start, spent.add(grown));
    periods.put(accountUid, next);
    into.periodStart = start.toString();
    into.spentThisPeriod = TokenUnits.fromWei(next.spentWei()).toPlainString();
  }
}
