package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.PairEvent;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.web3j.utils.Numeric;

/**
 * The settlement loop: every {@link SettlementConfig#interval()} it sends the pending cumulative
 * amounts in batches, waits for the receipts and moves each pair's settled cursor to what the chain
 * paid. Before its first round it reconciles with the chain's events (the chain wins).
 *
 * <p>Nothing is paid twice because every report is cumulative; nothing is lost because a pair stays
 * pending in the store until the chain has paid its metered cost. A failed round (RPC down, revert)
 * only delays: the pairs back off and are sent again.
 */
public final class SettlementService implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(SettlementService.class.getName());

  private record Key(String jobIdHash, String payer, String provider) {
    static Key of(PairId p) {
      return new Key(Numeric.toHexString(p.jobIdHash()), p.payer(), p.provider());
    }

    static Key of(PairEvent e) {
      return new Key(e.jobIdHash(), e.payer(), e.provider());
    }
  }

  private final SettlementConfig config;
  private final BillingLedger ledger;
  private final BillingStore store;
  private final BillingChain chain;
  private final Clock clock;
  private final SettlementOutbox outbox;
  private volatile boolean reconciled;
  private final Map<String, Instant> pendingSince = new HashMap<>();

  /** A pair whose batch of one is rejected this many rounds in a row is set aside. */
  static final int SET_ASIDE_AFTER_REVERTS = 3;

  private final Map<PairId, Integer> revertStreak = new HashMap<>();
  private Instant lastRecheck;
  private final Map<String, Instant> unconfirmedSince =
      new java.util.concurrent.ConcurrentHashMap<>();
  private ScheduledExecutorService executor;

  public SettlementService(
      SettlementConfig config, BillingLedger ledger, BillingChain chain, Clock clock) {
    this.config = Objects.requireNonNull(config, "config");
    this.ledger = Objects.requireNonNull(ledger, "ledger");
    this.store = ledger.store();
    this.chain = Objects.requireNonNull(chain, "chain");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.outbox =
        new SettlementOutbox(
            ledger, config.backoff(), () -> ThreadLocalRandom.current().nextDouble());
  }

  public SettlementOutbox outbox() {
    return outbox;
  }

  public boolean isReconciled() {
    return reconciled;
  }

  /** Run rounds on a background thread, the first one now, then every interval. Idempotent. */
  public synchronized void start() {
    if (executor != null) {
      return;
    }
    executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "billing-settlement");
              t.setDaemon(true);
              return t;
            });
    executor.scheduleWithFixedDelay(
        this::runSafely, 0, config.interval().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Stop the background rounds, letting a running round finish (up to 30 s). */
  public void stop() {
    ScheduledExecutorService e;
    synchronized (this) {
      e = executor;
      executor = null;
    }
    if (e == null) {
      return;
    }
    e.shutdown();
    try {
      if (!e.awaitTermination(30, TimeUnit.SECONDS)) {
        e.shutdownNow();
      }
    } catch (InterruptedException ie) {
      e.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stop();
  }

  private void runSafely() {
    try {
      RoundResult r = runOnce();
      if (!r.errors().isEmpty()) {
        LOG.log(System.Logger.Level.WARNING, "settlement round: {0}", r);
      }
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "settlement round failed unexpectedly", e);
    }
  }

  /**
   * Read the contract's Settled/Overdrawn events and make each stored pair's settled cursor what
   * the chain says; then resolve transactions left in flight by an earlier process.
   */
  public synchronized ReconcileResult reconcile() {
    List<PairEvent> events = chain.pairEvents(config.reconcileFromBlock());
    Map<Key, PairOnChain> latest = new HashMap<>();
    for (PairEvent e : events) {
      latest.merge(
          Key.of(e),
          new PairOnChain(e.paidTotal(), e.owedTotal()),
          (a, b) -> new PairOnChain(a.paidWei().max(b.paidWei()), a.owedWei().max(b.owedWei())));
    }
    int corrected = 0;
    Set<Key> known = new HashSet<>();
    for (PairLedger l : store.all()) {
      Key k = Key.of(l.pair());
      known.add(k);
      PairOnChain c = latest.getOrDefault(k, new PairOnChain(BigInteger.ZERO, BigInteger.ZERO));
      if (!c.paidWei().equals(l.settledWei())
          || !c.owedWei().max(c.paidWei()).equals(l.chainOwedWei())) {
        LOG.log(
            System.Logger.Level.INFO,
            "{0}: settled cursor {1} -> {2} wei (chain events)",
            l.pair(),
            l.settledWei(),
            c.paidWei());
        store.update(l.pair(), x -> x.withChain(c.paidWei(), c.owedWei()));
        corrected++;
      }
    }
    lastRecheck = clock.instant(); // the events just read are as fresh as a recheck
    int unknown = (int) latest.keySet().stream().filter(k -> !known.contains(k)).count();
    List<String> inFlightErrors = new ArrayList<>();
    int cleared = resolveInFlight(inFlightErrors);
    inFlightErrors.forEach(e -> LOG.log(System.Logger.Level.INFO, "reconcile: {0}", e));
    reconciled = true;
    return new ReconcileResult(events.size(), corrected, cleared, unknown);
  }

  /** One round: reconcile if not yet done, resolve in-flight receipts, send due batches, await. */
  public synchronized RoundResult runOnce() {
    List<String> errors = new ArrayList<>();
    if (!reconciled) {
      try {
        reconcile();
      } catch (ChainException e) {
        errors.add("reconcile: " + e.getMessage());
        return new RoundResult(0, 0, 0, errors);
      }
    }
    Instant now = clock.instant();
    if (lastRecheck == null || !now.isBefore(lastRecheck.plus(config.recheckInterval()))) {
      try {
        recheckSettled();
        lastRecheck = now;
      } catch (ChainException e) {
        errors.add("recheck: " + e.getMessage());
      }
    }
    int confirmed = resolveInFlight(errors);
    int sent = 0;
    int failed = 0;
    Set<String> skip;
    try {
      skip = dryPayers();
    } catch (ChainException e) {
      errors.add("escrow query: " + e.getMessage());
      return new RoundResult(0, confirmed, 0, errors);
    }
    List<SettlementItem> due = outbox.due(now, skip);
    if (!due.isEmpty()) {
      chain.beginRound();
    }
    Deque<List<SettlementItem>> queue =
        new ArrayDeque<>(SettlementOutbox.batches(due, config.batchSize()));
    while (!queue.isEmpty()) {
      List<SettlementItem> batch = queue.poll();
      List<PairId> pairs = batch.stream().map(SettlementItem::pair).toList();
      try {
        String tx = chain.submitSettlement(batch);
        unconfirmedSince.put(tx, now);
        for (PairId p : pairs) {
          store.update(p, l -> l.withInFlight(tx));
        }
        sent++;
      } catch (ChainUnavailableException e) {
        errors.add("send: " + e.getMessage());
        outbox.retryLater(pairs, now);
        failed += pairs.size();
        break; // the node is unreachable: the remaining batches wait for the next round
      } catch (ChainRevertException e) {
        errors.add("batch of " + batch.size() + " rejected: " + e.error());
        if (!e.isContractError()) {
          // The node refused the transaction itself (fee, funds): no pair is to blame.
          outbox.retryLater(pairs, now);
          failed += pairs.size();
          continue;
        }
        if (batch.size() > 1) {
          // Halve until the pair that makes it revert is alone; the other halves go through.
          int half = batch.size() / 2;
          queue.addFirst(List.copyOf(batch.subList(half, batch.size())));
          queue.addFirst(List.copyOf(batch.subList(0, half)));
          continue;
        }
        PairId alone = pairs.get(0);
        int streak = revertStreak.merge(alone, 1, Integer::sum);
        if (streak >= SET_ASIDE_AFTER_REVERTS) {
          outbox.setAside(alone, "rejected alone " + streak + " times in a row: " + e.error());
          revertStreak.remove(alone);
        } else {
          outbox.retryLater(pairs, now);
        }
        failed += pairs.size();
      }
    }
    long deadline = System.nanoTime() + config.receiptTimeout().toNanos();
    while (hasInFlight()) {
      int errorsBefore = errors.size();
      confirmed += resolveInFlight(errors);
      boolean unreachable = errors.size() > errorsBefore && !reachable();
      if (unreachable || !hasInFlight() || System.nanoTime() >= deadline) {
        break;
      }
      try {
        Thread.sleep(config.receiptPollInterval().toMillis());
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return new RoundResult(sent, confirmed, failed, errors);
  }

  /**
   * Since when the oldest settlement transaction still waiting for its receipt (at the configured
   * depth) has been waiting, or empty when none is. A transaction found in the store after a
   * restart counts from when this process first saw it.
   */
  public Optional<Instant> oldestUnconfirmedSince() {
    Set<String> inFlight = new HashSet<>();
    for (PairLedger l : store.all()) {
      if (l.inFlightTx() != null) {
        inFlight.add(l.inFlightTx());
      }
    }
    unconfirmedSince.keySet().retainAll(inFlight);
    return unconfirmedSince.values().stream().min(Instant::compareTo);
  }

  /**
   * Compare every settled cursor with the chain's figures and move back any the chain no longer
   * backs (a reorganisation deeper than {@link SettlementConfig#confirmations()} dropped the
   * settlement): the pair becomes pending again and is sent in the next batch. Returns how many
   * cursors moved back.
   */
  public synchronized int recheckSettled() {
    int moved = 0;
    for (PairLedger l : store.all()) {
      if (l.inFlightTx() != null || l.settledWei().signum() == 0) {
        continue;
      }
      PairOnChain c = chain.pairState(l.pair());
      if (c.paidWei().compareTo(l.settledWei()) < 0) {
        LOG.log(
            System.Logger.Level.WARNING,
            "{0}: the chain now shows {1} wei paid, the cursor said {2} (reorganisation?);"
                + " moving it back and settling again",
            l.pair(),
            c.paidWei(),
            l.settledWei());
        store.update(l.pair(), x -> x.withChain(c.paidWei(), c.owedWei()));
        moved++;
      }
    }
    return moved;
  }

  private boolean reachable() {
    try {
      chain.latestBlock();
      return true;
    } catch (ChainException e) {
      return false;
    }
  }

  private boolean hasInFlight() {
    return store.all().stream().anyMatch(l -> l.inFlightTx() != null);
  }

  private Set<String> dryPayers() {
    Set<String> payers = new HashSet<>();
    for (PairLedger l : ledger.pending()) {
      payers.add(l.pair().payer());
    }
    Set<String> dry = new HashSet<>();
    for (String payer : payers) {
      if (chain.escrow(payer).balanceWei().signum() == 0) {
        dry.add(payer);
      }
    }
    return dry;
  }

  /** Process receipts of in-flight transactions; returns the number of pairs resolved. */
  private int resolveInFlight(List<String> errors) {
    Map<String, List<PairLedger>> byTx = new LinkedHashMap<>();
    for (PairLedger l : store.all()) {
      if (l.inFlightTx() != null) {
        byTx.computeIfAbsent(l.inFlightTx(), k -> new ArrayList<>()).add(l);
      }
    }
    int resolved = 0;
    Instant now = clock.instant();
    long latest = -1;
    for (Map.Entry<String, List<PairLedger>> e : byTx.entrySet()) {
      String tx = e.getKey();
      List<PairId> pairs = e.getValue().stream().map(PairLedger::pair).toList();
      unconfirmedSince.putIfAbsent(tx, now); // sent by an earlier process: age from now on
      try {
        Optional<SettlementReceipt> receipt = chain.receipt(tx);
        if (receipt.isPresent() && config.confirmations() > 1) {
          if (latest < 0) {
            latest = chain.latestBlock();
          }
          if (latest - receipt.get().blockNumber() + 1 < config.confirmations()) {
            continue; // mined but not yet final: the cursor moves once it is deep enough
          }
        }
        if (receipt.isPresent() && receipt.get().success()) {
          applyConfirmed(tx, receipt.get(), pairs);
          outbox.delivered(pairs);
          pairs.forEach(revertStreak::remove);
          resolved += pairs.size();
        } else if (receipt.isPresent()) {
          errors.add("tx " + tx + " reverted: " + receipt.get().revertReason());
          clearInFlight(tx, pairs);
          outbox.retryLater(pairs, now);
          resolved += pairs.size();
        } else if (!chain.isKnown(tx)) {
          errors.add("tx " + tx + " unknown to the node (dropped); will resend");
          clearInFlight(tx, pairs);
          pendingSince.remove(tx);
          resolved += pairs.size();
        } else {
          replaceIfStuck(tx, pairs, now);
        }
        if (receipt.isPresent()) {
          pendingSince.remove(tx);
        }
      } catch (ChainException ex) {
        errors.add("receipt " + tx + ": " + ex.getMessage());
        return resolved;
      }
    }
    return resolved;
  }

  private void applyConfirmed(String tx, SettlementReceipt receipt, List<PairId> pairs) {
    Map<Key, PairOnChain> fromEvents = new HashMap<>();
    for (PairEvent ev : receipt.events()) {
      fromEvents.merge(
          Key.of(ev),
          new PairOnChain(ev.paidTotal(), ev.owedTotal()),
          (a, b) -> new PairOnChain(a.paidWei().max(b.paidWei()), a.owedWei().max(b.owedWei())));
    }
    for (PairId p : pairs) {
      // No event means the chain had already paid everything reported: ask it for the figures.
      PairOnChain c = fromEvents.get(Key.of(p));
      PairOnChain state = c != null ? c : chain.pairState(p);
      store.update(
          p,
          l -> {
            PairLedger updated =
                l.withChain(
                    l.settledWei().max(state.paidWei()), l.chainOwedWei().max(state.owedWei()));
            return tx.equals(l.inFlightTx()) ? updated.withInFlight(null) : updated;
          });
    }
  }

  private void replaceIfStuck(String tx, List<PairId> pairs, Instant now) {
    Instant since = pendingSince.computeIfAbsent(tx, k -> now);
    if (now.isBefore(since.plus(config.stuckAfter()))) {
      return;
    }
    Optional<String> replacement = chain.replaceStuck(tx);
    if (replacement.isEmpty()) {
      return;
    }
    String newTx = replacement.get();
    for (PairId p : pairs) {
      store.update(p, l -> tx.equals(l.inFlightTx()) ? l.withInFlight(newTx) : l);
    }
    pendingSince.remove(tx);
    pendingSince.put(newTx, now);
    Instant firstSent = unconfirmedSince.remove(tx);
    unconfirmedSince.put(newTx, firstSent != null ? firstSent : now);
    LOG.log(
        System.Logger.Level.INFO, "tx {0} pending since {1}: replaced by {2}", tx, since, newTx);
  }

  private void clearInFlight(String tx, List<PairId> pairs) {
    for (PairId p : pairs) {
      store.update(p, l -> tx.equals(l.inFlightTx()) ? l.withInFlight(null) : l);
    }
  }
}
