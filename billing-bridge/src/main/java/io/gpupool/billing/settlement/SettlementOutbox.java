package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.PairLedger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.DoubleSupplier;

/**
 * Pending settlements. The durable part is the store itself (every pair with metered cost above its
 * settled cursor is pending, so a restart loses nothing; signed transactions are persisted as
 * {@link io.gpupool.billing.ledger.OutboxEntry}); this class adds the volatile scheduling: retry
 * attempts with backoff, and grouping into batches sorted by payer and provider so the contract
 * touches each escrow and provider balance once per batch.
 */
public final class SettlementOutbox {

  private static final System.Logger LOG = System.getLogger(SettlementOutbox.class.getName());

  private record Retry(int attempts, Instant notBefore) {}

  private final BillingLedger ledger;
  private final Backoff backoff;
  private final DoubleSupplier random;
  private final Map<PairId, Retry> retries = new ConcurrentHashMap<>();
  private volatile SetAsideListener listener = (pair, reason) -> {};

  public SettlementOutbox(BillingLedger ledger, Backoff backoff, DoubleSupplier random) {
    this.ledger = Objects.requireNonNull(ledger, "ledger");
    this.backoff = Objects.requireNonNull(backoff, "backoff");
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * Items due now: pending pairs that are not awaiting a receipt, not backing off and whose payer
   * is not in {@code skipPayers} (e.g. escrow known to be empty), sorted by payer, provider, job.
   */
  public List<SettlementItem> due(Instant now, Set<String> skipPayers) {
    List<SettlementItem> items = new ArrayList<>();
    for (PairLedger l : ledger.pending()) {
      if (l.inFlightTx() != null || skipPayers.contains(l.pair().payer())) {
        continue;
      }
      if (l.setAside() != null) {
        continue;
      }
      Retry r = retries.get(l.pair());
      if (r != null && now.isBefore(r.notBefore())) {
        continue;
      }
      if (l.meteredWei().compareTo(SettlementItem.MAX_AMOUNT) > 0) {
        // One pair the contract cannot take must not stop every other pair from settling.
        setAside(
            l.pair(),
            "cumulative "
                + l.meteredWei()
                + " wei exceeds the contract's 96-bit amount field ("
                + SettlementItem.MAX_AMOUNT
                + ")");
        continue;
      }
      items.add(new SettlementItem(l.pair(), l.meteredWei()));
    }
    return items;
  }

  /** Split sorted items into batches of at most {@code batchSize}. */
  public static List<List<SettlementItem>> batches(List<SettlementItem> items, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1");
    }
    List<List<SettlementItem>> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i += batchSize) {
      out.add(List.copyOf(items.subList(i, Math.min(items.size(), i + batchSize))));
    }
    return out;
  }

  /** Schedule another attempt for these pairs after the backoff delay of their attempt count. */
  public void retryLater(Collection<PairId> pairs, Instant now) {
    for (PairId p : pairs) {
      retries.compute(
          p,
          (id, r) -> {
            int attempts = r == null ? 1 : r.attempts() + 1;
            return new Retry(attempts, now.plus(backoff.delay(attempts, random)));
          });
    }
  }

  /** These pairs were settled: forget their retry state. */
  public void delivered(Collection<PairId> pairs) {
    pairs.forEach(retries::remove);
  }

  /**
   * Stop offering {@code pair} for settlement (it stays pending in the store: nothing is lost) and
   * remember why, in the store: a restarted operator does not send it again either (nor tell the
   * job again) until it is {@link #release released}.
   */
  public void setAside(PairId pair, String reason) {
    Objects.requireNonNull(reason, "reason");
    boolean[] fresh = {false};
    ledger
        .store()
        .update(
            pair,
            l -> {
              fresh[0] = l.setAside() == null;
              return fresh[0] ? l.withSetAside(reason) : l;
            });
    if (fresh[0]) {
      LOG.log(System.Logger.Level.WARNING, "{0} set aside from settlement: {1}", pair, reason);
      try {
        listener.pairSetAside(pair, reason);
      } catch (RuntimeException e) {
        // Telling the job is best effort: it must not stop settlement of the other pairs.
        LOG.log(System.Logger.Level.WARNING, "set-aside listener failed for " + pair, e);
      }
    }
  }

  /** Tell {@code l} about every pair set aside from now on. */
  public void onSetAside(SetAsideListener l) {
    this.listener = Objects.requireNonNull(l, "listener");
  }

  /** Offer a set-aside pair again (e.g. once an operator has fixed its cause). */
  public void release(PairId pair) {
    if (ledger.store().get(pair).map(l -> l.setAside() != null).orElse(false)) {
      ledger.store().update(pair, l -> l.withSetAside(null));
    }
    retries.remove(pair);
  }

  /** Pairs set aside and why (read from the store). */
  public Map<PairId, String> setAside() {
    Map<PairId, String> out = new HashMap<>();
    for (PairLedger l : ledger.store().all()) {
      if (l.setAside() != null) {
        out.put(l.pair(), l.setAside());
      }
    }
    return Map.copyOf(out);
  }

  /** Failed attempts so far (0 if none). */
  public int attempts(PairId pair) {
    Retry r = retries.get(pair);
    return r == null ? 0 : r.attempts();
  }
}
