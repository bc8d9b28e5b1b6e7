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
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.SignedSettlement;
import io.gpupool.billing.ledger.BillingStore;
import io.gpupool.billing.ledger.OutboxEntry;
import io.gpupool.billing.ledger.PairLedger;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Carries every signed transaction of the outbox to its end: reads receipts and the mined nonce,
 * lets {@link OutboxTransition} decide, and confirms (cursors take the chain's figures), releases,
 * re-broadcasts or replaces it. Also resolves in-flight marks that no outbox entry accounts for
 * (left by an operator without an outbox). Called only from the settlement loop's synchronized
 * rounds.
 */
final class OutboxResolver {

  private static final System.Logger LOG = System.getLogger(OutboxResolver.class.getName());

  private final SettlementConfig config;
  private final BillingStore store;
  private final BillingChain chain;
  private final Clock clock;
  private final SettlementOutbox outbox;
  private final Consumer<List<PairId>> onConfirmed;

  /** Since when each orphan in-flight mark has been waiting (for the unconfirmed-age alert). */
  private final Map<String, Instant> orphanSince = new ConcurrentHashMap<>();

  /**
   * @param onConfirmed told of the pairs of each transaction confirmed at depth
   */
  OutboxResolver(
      SettlementConfig config,
      BillingStore store,
      BillingChain chain,
      Clock clock,
      SettlementOutbox outbox,
      Consumer<List<PairId>> onConfirmed) {
    this.config = config;
    this.store = store;
    this.chain = chain;
    this.clock = clock;
    this.outbox = outbox;
    this.onConfirmed = onConfirmed;
  }

  /** The oldest orphan in-flight mark's first sighting, or empty when there is none. */
  Optional<Instant> oldestOrphanSince() {
    return orphanSince.values().stream().min(Instant::compareTo);
  }

  /**
   * Advance every persisted outbox transaction (see {@link OutboxTransition}) and resolve in-flight
   * marks no outbox entry accounts for; returns the number of pairs resolved.
   */
  int resolve(List<String> errors) {
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
            onConfirmed.accept(entry.pairs());
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
  boolean broadcast(OutboxEntry entry, List<String> errors) {
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
          p, l -> isOneOf(l.inFlightTx(), entry.allHashes()) ? l.withInFlight(s.txHash()) : l);
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
        if (l.inFlightTx() == null || isOneOf(l.inFlightTx(), entry.allHashes())) {
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
            return isOneOf(l.inFlightTx(), entry.allHashes()) ? x.withInFlight(null) : x;
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
    Map<PairKey, PairOnChain> fromEvents = new HashMap<>();
    for (PairEvent ev : receipt.events()) {
      fromEvents.merge(
          PairKey.of(ev),
          new PairOnChain(ev.paidTotal(), ev.owedTotal()),
          (a, b) -> new PairOnChain(a.paidWei().max(b.paidWei()), a.owedWei().max(b.owedWei())));
    }
    for (PairId p : pairs) {
      // No event means the chain had already paid everything reported: ask it for the figures.
      PairOnChain c = fromEvents.get(PairKey.of(p));
      PairOnChain state = c != null ? c : chain.pairState(p);
      store.update(
          p,
          l -> {
            PairLedger updated =
                l.withChain(
                    l.settledWei().max(state.paidWei()), l.chainOwedWei().max(state.owedWei()));
            return isOneOf(l.inFlightTx(), hashes) ? updated.withInFlight(null) : updated;
          });
    }
  }

  /**
   * True when a pair's in-flight mark is one of {@code hashes}. A pair without a mark (another
   * leader applied the receipt and died before removing the entry) is none of them: immutable sets
   * throw on a null lookup, which failed every settlement round after such a death.
   */
  private static boolean isOneOf(String mark, Collection<String> hashes) {
    return mark != null && hashes.contains(mark);
  }

  private void clearInFlight(String tx, List<PairId> pairs) {
    for (PairId p : pairs) {
      store.update(p, l -> tx.equals(l.inFlightTx()) ? l.withInFlight(null) : l);
    }
  }
}
