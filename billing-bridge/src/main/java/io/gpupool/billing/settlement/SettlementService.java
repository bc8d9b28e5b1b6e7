package io.gpupool.billing.settlement;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.BroadcastResult;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.billing.chain.ChainRevertException;
import io.gpupool.billing.chain.ChainUnavailableException;
import io.gpupool.billing.chain.PairEvent;
import io.gpupool.billing.chain.PairOnChain;
import io.gpupool.billing.chain.ProviderRegistrations;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.SignedSettlement;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
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
import java.util.function.LongFunction;
import org.web3j.utils.Numeric;

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

  /** A pair whose batch of one is rejected this many rounds in a row is set aside. */
  static final int SET_ASIDE_AFTER_REVERTS = 3;

  private final Map<PairId, Integer> revertStreak = new HashMap<>();
  private Instant lastRecheck;
  private final Map<String, Instant> orphanSince = new java.util.concurrent.ConcurrentHashMap<>();
  private final Set<String> registered = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> unregisteredCheckedAt =
      new java.util.concurrent.ConcurrentHashMap<>();
  private volatile Set<PairId> heldUnregistered = Set.of();

  /**
   * Next block to read {@code ProviderRegistered} events from while some provider is held; -1 when
   * none is (set just before a provider is first found unregistered, so no registration after that
   * answer is missed).
   */
  private long registrationCursor = -1;

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
    try {
      watchRegistrations();
    } catch (ChainException e) {
      errors.add("ProviderRegistered events: " + e.getMessage()); // the recheck still catches up
    }
    List<SettlementItem> due;
    try {
      due = withoutUnregisteredProviders(outbox.due(now, skip), now);
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
        if (!broadcast(entry, errors)) {
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
    if (!broadcast(entry, errors)) {
      LOG.log(System.Logger.Level.WARNING, "{0}: {1}; re-broadcast next round", call, errors);
    }
    return signed.txHash();
  }

  /**
   * Since when the oldest settlement transaction still waiting for its receipt (at the configured
   * depth) has been waiting, or empty when none is. Outbox entries carry the time they were first
   * persisted, so after a restart the age counts from the first send, not from the restart.
   */
  public Optional<Instant> oldestUnconfirmedSince() {
    Optional<Instant> persisted =
        store.outbox().stream().map(OutboxEntry::createdAt).min(Instant::compareTo);
    Optional<Instant> orphan = orphanSince.values().stream().min(Instant::compareTo);
    return persisted.isEmpty()
        ? orphan
        : orphan.map(o -> o.isBefore(persisted.get()) ? o : persisted.get()).or(() -> persisted);
  }

  /** Pairs held back because their provider is not registered on chain (as of the last round). */
  public Set<PairId> heldForRegistration() {
    return heldUnregistered;
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

  /**
   * Drop items whose provider has not registered on chain: the contract would only record them as
   * owed. A provider found unregistered is asked again after {@link
   * SettlementConfig#recheckInterval}; a registered one is remembered (registration is final).
   */
  private List<SettlementItem> withoutUnregisteredProviders(
      List<SettlementItem> items, Instant now) {
    List<SettlementItem> payable = new ArrayList<>(items.size());
    Set<PairId> held = new HashSet<>();
    for (SettlementItem item : items) {
      String provider = item.pair().provider();
      if (isRegistered(provider, now)) {
        payable.add(item);
      } else {
        held.add(item.pair());
      }
    }
    heldUnregistered = Set.copyOf(held);
    return payable;
  }

  private boolean isRegistered(String provider, Instant now) {
    if (registered.contains(provider)) {
      return true;
    }
    Instant checked = unregisteredCheckedAt.get(provider);
    if (checked != null && now.isBefore(checked.plus(config.recheckInterval()))) {
      return false;
    }
    if (registrationCursor < 0) {
      registrationCursor = chain.latestBlock();
    }
    if (chain.isProviderRegistered(provider)) {
      registered.add(provider);
      unregisteredCheckedAt.remove(provider);
      return true;
    }
    if (checked == null) {
      LOG.log(
          System.Logger.Level.WARNING,
          "provider {0} has not registered a payout address on chain: its usage is held until it"
              + " does (checked again every {1})",
          provider,
          config.recheckInterval());
    }
    unregisteredCheckedAt.put(provider, now);
    return false;
  }

  /**
   * While providers are held, read the {@code ProviderRegistered} events since the last round: a
   * provider that registered is asked again at once, so its held pairs go out this round instead of
   * after {@link SettlementConfig#recheckInterval}.
   */
  private void watchRegistrations() {
    if (unregisteredCheckedAt.isEmpty()) {
      registrationCursor = -1;
      return;
    }
    if (registrationCursor < 0) {
      return;
    }
    ProviderRegistrations r = chain.providerRegistrations(registrationCursor);
    for (String provider : r.providers()) {
      if (unregisteredCheckedAt.containsKey(provider)) {
        LOG.log(System.Logger.Level.INFO, "provider {0} registered: its usage is sent", provider);
        providerRegistered(provider);
      }
    }
    registrationCursor = r.toBlock() + 1;
  }

  /** Look the provider's registration up again next round (e.g. on ProviderRegistered). */
  public void providerRegistered(String provider) {
    unregisteredCheckedAt.remove(PairId.normaliseAddress(provider, "provider"));
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

  /**
   * Advance every persisted outbox transaction (see {@link OutboxTransition}) and resolve in-flight
   * marks no outbox entry accounts for; returns the number of pairs resolved.
   */
  private int resolveInFlight(List<String> errors) {
    List<OutboxEntry> entries =
        store.outbox().stream().sorted(Comparator.comparingLong(OutboxEntry::nonce)).toList();
    int resolved = 0;
    try {
      resolved += resolveOrphans(entries, errors);
      if (entries.isEmpty()) {
        return resolved;
      }
      Instant now = clock.instant();
      // Read before any receipt: a version mined after this read is found by its receipt.
      long minedNonce = chain.minedNonce();
      long[] latest = {-1};
      for (OutboxEntry entry : entries) {
        repairMarks(entry);
        Optional<SettlementReceipt> receipt = Optional.empty();
        for (String hash : entry.allHashes()) {
          receipt = chain.receipt(hash);
          if (receipt.isPresent()) {
            break;
          }
        }
        OutboxTransition.Observation seen =
            new OutboxTransition.Observation(
                receipt,
                () -> latest[0] >= 0 ? latest[0] : (latest[0] = chain.latestBlock()),
                minedNonce,
                () -> entry.allHashes().stream().anyMatch(chain::isKnown),
                () -> alreadyPaid(entry),
                now);
        OutboxTransition.Action action =
            OutboxTransition.next(entry, seen, config.confirmations(), config.stuckAfter());
        switch (action) {
          case CONFIRMED -> {
            applyConfirmed(entry, receipt.orElseThrow());
            store.removeOutbox(entry.nonce());
            outbox.delivered(entry.pairs());
            entry.pairs().forEach(revertStreak::remove);
            resolved += entry.items().size();
          }
          case REVERTED -> {
            errors.add(
                "tx "
                    + receipt.orElseThrow().txHash()
                    + " reverted: "
                    + receipt.get().revertReason());
            release(entry, false);
            outbox.retryLater(entry.pairs(), now);
            resolved += entry.items().size();
          }
          case ABANDON -> {
            LOG.log(
                System.Logger.Level.INFO,
                "outbox nonce {0} ({1}) can no longer be mined (nonce spent or already paid);"
                    + " its pairs are settled again from the chain''s figures",
                entry.nonce(),
                entry.txHash());
            release(entry, true);
            resolved += entry.items().size();
          }
          case BROADCAST -> {
            if (entry.state() == OutboxEntry.State.SENT) {
              errors.add("tx " + entry.txHash() + " unknown to the node (dropped); re-broadcast");
            }
            if (!broadcast(entry, errors)) {
              return resolved;
            }
          }
          case MARK_SENT -> store.putOutbox(entry.sent());
          case REPLACE -> {
            if (!replace(entry, now, errors)) {
              return resolved;
            }
          }
          case WAIT -> {}
        }
      }
    } catch (ChainException ex) {
      errors.add("receipt: " + ex.getMessage());
    }
    return resolved;
  }

  /**
   * Broadcast the entry's current bytes; marks it SENT when a node holds them. Returns false when
   * the node is unreachable (the entry stays and is broadcast again next round).
   */
  private boolean broadcast(OutboxEntry entry, List<String> errors) {
    BroadcastResult r;
    try {
      r = chain.broadcast(entry.rawTx());
    } catch (ChainUnavailableException e) {
      errors.add("broadcast of nonce " + entry.nonce() + ": " + e.getMessage());
      return false;
    } catch (ChainRevertException e) {
      // The node refused the bytes themselves (funds, fee cap): sign afresh later.
      errors.add("node refused nonce " + entry.nonce() + ": " + e.error());
      release(entry, false);
      outbox.retryLater(entry.pairs(), clock.instant());
      return true;
    }
    switch (r) {
      case ACCEPTED, ALREADY_KNOWN -> {
        if (entry.state() != OutboxEntry.State.SENT) {
          store.putOutbox(entry.sent());
        }
      }
      // Another transaction holds the nonce; the next resolution reads the mined nonce and the
      // receipts and abandons the entry only if none of its versions was mined.
      case NONCE_USED, UNDERPRICED ->
          errors.add("nonce " + entry.nonce() + " of " + entry.txHash() + ": " + r);
    }
    return true;
  }

  /** Persist a same-nonce, higher-fee version of a stuck entry, then broadcast it. */
  private boolean replace(OutboxEntry entry, Instant now, List<String> errors) {
    Optional<SignedSettlement> next =
        chain.signReplacement(
            new SignedSettlement(entry.nonce(), entry.txHash(), entry.rawTx(), entry.gasPriceWei()),
            entry.attempt() + 1);
    if (next.isEmpty()) {
      return true; // at the price cap: keep waiting
    }
    SignedSettlement s = next.get();
    OutboxEntry replaced = entry.replacedBy(s.txHash(), s.rawTx(), s.gasPriceWei(), now);
    store.putOutbox(replaced);
    for (PairId p : entry.pairs()) {
      store.update(
          p, l -> entry.allHashes().contains(l.inFlightTx()) ? l.withInFlight(s.txHash()) : l);
    }
    LOG.log(
        System.Logger.Level.INFO,
        "nonce {0} pending since {1}: replacing {2} by {3} at {4} wei gas price",
        entry.nonce(),
        entry.sentAt(),
        entry.txHash(),
        s.txHash(),
        s.gasPriceWei());
    return broadcast(replaced, errors);
  }

  /** Marks a pair left without its entry (the process stopped in between) get it back. */
  private void repairMarks(OutboxEntry entry) {
    for (PairId p : entry.pairs()) {
      PairLedger l = store.get(p).orElse(null);
      if (l != null && !entry.txHash().equals(l.inFlightTx())) {
        if (l.inFlightTx() == null || entry.allHashes().contains(l.inFlightTx())) {
          store.update(p, x -> x.withInFlight(entry.txHash()));
        }
      }
    }
  }

  /** True when the chain has paid every pair of the entry at least what it reports. */
  private boolean alreadyPaid(OutboxEntry entry) {
    if (entry.isCall()) {
      return false; // nothing but its own mining can show that a call took effect
    }
    for (SettlementItem item : entry.items()) {
      if (chain.pairState(item.pair()).paidWei().compareTo(item.cumulativeWei()) < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Remove an entry that will not pay and free its pairs; with {@code readChain} their cursors take
   * the chain's figures first (another transaction may have paid them).
   */
  private void release(OutboxEntry entry, boolean readChain) {
    for (PairId p : entry.pairs()) {
      PairOnChain c = readChain ? chain.pairState(p) : null;
      store.update(
          p,
          l -> {
            PairLedger x =
                c == null ? l : l.withChain(l.settledWei().max(c.paidWei()), c.owedWei());
            return entry.allHashes().contains(l.inFlightTx()) ? x.withInFlight(null) : x;
          });
    }
    store.removeOutbox(entry.nonce());
  }

  /**
   * In-flight marks that no outbox entry accounts for (written by an operator without an outbox):
   * applied when mined at depth, cleared when the node no longer knows them.
   */
  private int resolveOrphans(List<OutboxEntry> entries, List<String> errors) {
    Set<String> covered = new HashSet<>();
    entries.forEach(e -> covered.addAll(e.allHashes()));
    Map<String, List<PairId>> byTx = new LinkedHashMap<>();
    for (PairLedger l : store.all()) {
      if (l.inFlightTx() != null && !covered.contains(l.inFlightTx())) {
        byTx.computeIfAbsent(l.inFlightTx(), k -> new ArrayList<>()).add(l.pair());
      }
    }
    orphanSince.keySet().retainAll(byTx.keySet());
    int resolved = 0;
    Instant now = clock.instant();
    for (Map.Entry<String, List<PairId>> e : byTx.entrySet()) {
      String tx = e.getKey();
      List<PairId> pairs = e.getValue();
      orphanSince.putIfAbsent(tx, now);
      Optional<SettlementReceipt> receipt = chain.receipt(tx);
      if (receipt.isPresent()) {
        if (config.confirmations() > 1
            && chain.latestBlock() - receipt.get().blockNumber() + 1 < config.confirmations()) {
          continue;
        }
        if (receipt.get().success()) {
          applyConfirmed(Set.of(tx), receipt.get(), pairs);
          outbox.delivered(pairs);
        } else {
          errors.add("tx " + tx + " reverted: " + receipt.get().revertReason());
          clearInFlight(tx, pairs);
          outbox.retryLater(pairs, now);
        }
        resolved += pairs.size();
      } else if (!chain.isKnown(tx)) {
        errors.add("tx " + tx + " unknown to the node (dropped); will resend");
        clearInFlight(tx, pairs);
        resolved += pairs.size();
      }
    }
    return resolved;
  }

  private void applyConfirmed(OutboxEntry entry, SettlementReceipt receipt) {
    applyConfirmed(Set.copyOf(entry.allHashes()), receipt, entry.pairs());
  }

  private void applyConfirmed(Set<String> hashes, SettlementReceipt receipt, List<PairId> pairs) {
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
            return hashes.contains(l.inFlightTx()) ? updated.withInFlight(null) : updated;
          });
    }
  }

  private void clearInFlight(String tx, List<PairId> pairs) {
    for (PairId p : pairs) {
      store.update(p, l -> tx.equals(l.inFlightTx()) ? l.withInFlight(null) : l);
    }
  }
}
