package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.PairEvent;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.SignedSettlement;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.ledger.StoreUnavailableException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;

/**
 * The settlement loop: every {@link SettlementConfig#interval()} it sends the pending cumulative
 * amounts in batches, waits for the receipts and moves each pair's settled cursor to what the chain
 * paid. Before its first round it reconciles with the chain's events (the chain wins).
 *
 * <p>Nothing is paid twice because every report is cumulative; nothing is lost because a pair stays
 * pending in the store until the chain has paid its metered cost. A failed round (RPC down, revert)
 * only delays: the pairs back off and are sent again.
 *
 * <p>Every transaction is signed, then persisted in the store's outbox (nonce, raw bytes, hash),
 * and only then broadcast. A restarted operator (or a new leader) resumes the outbox: it broadcasts
 * the same bytes again or replaces them with the same nonce and a higher fee (see {@link
 * OutboxTransition}), so no usage is ever reported by two different transactions that could both
 * wait in a pool, and the nonce sequence has no gap every later transaction would queue behind.
 * Pairs of a provider that has not registered on chain are held (the contract would pay it nothing)
 * and its registration is looked up again every {@link SettlementConfig#recheckInterval}.
 */
public final class SettlementService implements AutoCloseable {

  private static final System.Logger LOG = System.getLogger(SettlementService.class.getName());

  private final SettlementConfig config;
  private final BillingLedger ledger;
  private final BillingStore store;
  private final BillingChain chain;
  private final Clock clock;
  private final SettlementOutbox outbox;
  private volatile boolean reconciled;

  /** A pair whose batch of one is rejected this many rounds in a row is set aside. */
  static final int SET_ASIDE_AFTER_REVERTS = 3;

  private final Map<PairId, Integer> revertStreak = new HashMap<>();
  private Instant lastRecheck;
  private final RegistrationHold registrations;
  private final OutboxResolver resolver;

  private ScheduledExecutorService executor;
  private final java.util.concurrent.atomic.AtomicLong unexpectedFailures =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile java.util.function.Consumer<Throwable> onUnexpectedFailure = e -> {};

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
    this.registrations = new RegistrationHold(config, chain);
    this.resolver =
        new OutboxResolver(
            config, store, chain, clock, outbox, pairs -> pairs.forEach(revertStreak::remove));
  }

  public SettlementOutbox outbox() {
    return outbox;
  }

  /** Background rounds that ended in an exception or error nothing inside the round handled. */
  public long unexpectedFailures() {
    return unexpectedFailures.get();
  }

  /**
   * Tell {@code listener} of each background round that failed unexpectedly (the operator counts
   * them in a metric: such a failure is a bug, and the log line alone is easily missed). Replaces
   * any earlier listener; one that throws is logged and otherwise ignored.
   */
  public void onUnexpectedFailure(java.util.function.Consumer<Throwable> listener) {
    this.onUnexpectedFailure = Objects.requireNonNull(listener, "listener");
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
    } catch (StoreUnavailableException e) {
      // The store's server did not answer (an API server restarting, a dropped connection): no
      // bug, and the next round starts from what the store holds.
      LOG.log(
          System.Logger.Level.WARNING,
          "settlement round ended: the billing store is unavailable ({0}); the next round retries",
          e.getMessage());
    } catch (Throwable e) {
      // Anything, an Error or a checked exception a library throws unchecked included: a throwable
      // escaping a scheduleWithFixedDelay task cancels every later run without a word, and
      // settlement would stop for good while the operator looks healthy. The next round starts
      // from the store and the outbox, which are consistent after any failure inside a round.
      unexpectedFailures.incrementAndGet();
      LOG.log(System.Logger.Level.ERROR, "settlement round failed unexpectedly", e);
      try {
        onUnexpectedFailure.accept(e);
      } catch (RuntimeException listenerFailure) {
        LOG.log(System.Logger.Level.WARNING, "unexpected-failure listener failed", listenerFailure);
      }
    }
  }

  /**
   * Read the contract's Settled/Overdrawn events and make each stored pair's settled cursor what
   * the chain says; then resolve transactions left in flight by an earlier process.
   */
  public synchronized ReconcileResult reconcile() {
    List<PairEvent> events = chain.pairEvents(config.reconcileFromBlock());
    Map<PairKey, PairOnChain> latest = new HashMap<>();
    for (PairEvent e : events) {
      latest.merge(
          PairKey.of(e),
          new PairOnChain(e.paidTotal(), e.owedTotal()),
          (a, b) -> new PairOnChain(a.paidWei().max(b.paidWei()), a.owedWei().max(b.owedWei())));
    }
    int corrected = 0;
    Set<PairKey> known = new HashSet<>();
    for (PairLedger l : store.all()) {
      PairKey k = PairKey.of(l.pair());
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
    int cleared = resolver.resolve(inFlightErrors);
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
    int confirmed = resolver.resolve(errors);
    int sent = 0;
    int failed = 0;
    Set<String> skip;
    try {
      skip = dryPayers();
    } catch (ChainException e) {
      errors.add("escrow query: " + e.getMessage());
      return new RoundResult(0, confirmed, 0, errors);
    }
    try {
      registrations.watch();
    } catch (ChainException e) {
      errors.add("ProviderRegistered events: " + e.getMessage()); // the recheck still catches up
    }
    List<SettlementItem> due;
    try {
      due = registrations.payable(outbox.due(now, skip), now);
    } catch (ChainException e) {
      errors.add("provider registration query: " + e.getMessage());
      return new RoundResult(0, confirmed, 0, errors);
    }
    Deque<List<SettlementItem>> queue =
        new ArrayDeque<>(SettlementOutbox.batches(due, config.batchSize()));
    // Read once per round (one LIST on the operator's store), then raised by each batch signed.
    long floor = due.isEmpty() ? 0 : nonceFloor();
    while (!queue.isEmpty()) {
      List<SettlementItem> batch = queue.poll();
      List<PairId> pairs = batch.stream().map(SettlementItem::pair).toList();
      try {
        SignedSettlement signed = chain.signSettlement(batch, floor);
        floor = Math.max(floor, signed.nonce() + 1);
        OutboxEntry entry =
            OutboxEntry.signed(
                signed.nonce(), signed.txHash(), signed.rawTx(), signed.gasPriceWei(), batch, now);
        // Persisted before the broadcast: whatever happens next, a restart finds these bytes.
        store.putOutbox(entry);
        for (PairId p : pairs) {
          store.update(p, l -> l.withInFlight(signed.txHash()));
        }
        sent++;
        if (!resolver.broadcast(entry, errors)) {
          break; // the node is unreachable: the entry is re-broadcast next round
        }
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
      confirmed += resolver.resolve(errors);
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

  /** The persisted outbox: every transaction signed and not yet confirmed at depth. */
  public List<OutboxEntry> outboxEntries() {
    return store.outbox();
  }

  /**
   * Send another call of the reporter's key (a dispute) through the outbox: {@code sign} signs it
   * at a nonce of at least the one it is given (above every nonce the outbox holds); the signed
   * transaction is persisted, then broadcast, and from then on re-broadcast when dropped, replaced
   * with a higher fee when stuck and resumed by a restarted operator, like a settlement. Its entry
   * is removed once it is mined at depth (or reverted, or its nonce taken by another transaction).
   *
   * @param call what it does, for the outbox entry and logs (e.g. {@code openDispute(...)})
   * @return the hash of the first version (a replacement has another; see {@link
   *     OutboxEntry#allHashes})
   * @throws ChainRevertException when the dry run reverts (nothing was persisted or sent)
   * @throws ChainUnavailableException when the node cannot be reached before it was persisted
   */
  public synchronized String sendCall(String call, LongFunction<SignedSettlement> sign) {
    SignedSettlement signed = sign.apply(nonceFloor());
    OutboxEntry entry =
        OutboxEntry.signedCall(
            signed.nonce(),
            signed.txHash(),
            signed.rawTx(),
            signed.gasPriceWei(),
            call,
            clock.instant());
    store.putOutbox(entry);
    List<String> errors = new ArrayList<>();
    if (!resolver.broadcast(entry, errors)) {
      LOG.log(System.Logger.Level.WARNING, "{0}: {1}; re-broadcast next round", call, errors);
    }
    return signed.txHash();
  }

  /**
   * The nonces of the settlements in the outbox that report {@code pair}: signed, and not yet
   * confirmed at the configured depth (or dropped for good). Synchronized with the rounds: a round
   * that chose the pair before the caller changed what the store owes it (a forfeit) has signed and
   * persisted its batch by the time this answers, so the answer holds every settlement of the pair
   * that can still land from before that change.
   */
  public synchronized Set<Long> unconfirmedSettlements(PairId pair) {
    Set<Long> nonces = new HashSet<>();
    for (OutboxEntry e : store.outbox()) {
      if (!e.isCall() && e.pairs().contains(pair)) {
        nonces.add(e.nonce());
      }
    }
    return nonces;
  }

  /**
   * Since when the oldest settlement transaction still waiting for its receipt (at the configured
   * depth) has been waiting, or empty when none is. Outbox entries carry the time they were first
   * persisted, so after a restart the age counts from the first send, not from the restart.
   */
  public Optional<Instant> oldestUnconfirmedSince() {
    Optional<Instant> persisted =
        store.outbox().stream().map(OutboxEntry::createdAt).min(Instant::compareTo);
    Optional<Instant> orphan = resolver.oldestOrphanSince();
    return persisted.isEmpty()
        ? orphan
        : orphan.map(o -> o.isBefore(persisted.get()) ? o : persisted.get()).or(() -> persisted);
  }

  /** Look the provider's registration up again next round (e.g. on ProviderRegistered). */
  public void providerRegistered(String provider) {
    registrations.providerRegistered(provider);
  }

  /** Pairs held back because their provider is not registered on chain (as of the last round). */
  public Set<PairId> heldForRegistration() {
    return registrations.held();
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
    return !store.outbox().isEmpty() || store.all().stream().anyMatch(l -> l.inFlightTx() != null);
  }

  /** The lowest nonce a new transaction may take: above every nonce the outbox holds. */
  private long nonceFloor() {
    return store.outbox().stream().mapToLong(OutboxEntry::nonce).max().orElse(-1) + 1;
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
}
