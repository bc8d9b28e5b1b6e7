package io.gpupool.billing.ledger;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One settlement transaction of the persisted outbox: everything a restarted operator needs to
 * re-broadcast it byte for byte or replace it with the same nonce, so that no usage is ever sent in
 * a second transaction. It is written before the transaction is broadcast and removed once its
 * receipt is confirmed at depth (or the chain shows it can never be mined).
 *
 * @param nonce the reporter's nonce the transaction uses (every version of it uses the same one)
 * @param state {@link State#SIGNED} until a node acknowledged it, then {@link State#SENT}
 * @param txHash hash of the current version
 * @param rawTx the current version, signed, as 0x hex (what {@code eth_sendRawTransaction} takes)
 * @param gasPriceWei gas price of the current version (a replacement pays at least 12.5 % more)
 * @param attempt 0 for the first version, +1 per replacement
 * @param earlierHashes hashes of the versions it replaced (one of them may still be mined)
 * @param items the cumulative amounts it reports, per pair
 * @param createdAt when the first version was persisted (the age the alert measures)
 * @param sentAt when the current version was persisted (stuck detection measures from here)
 */
public record OutboxEntry(
    long nonce,
    State state,
    String txHash,
    String rawTx,
    BigInteger gasPriceWei,
    int attempt,
    List<String> earlierHashes,
    List<SettlementItem> items,
    Instant createdAt,
    Instant sentAt) {

  /** Where a persisted transaction stands. */
  public enum State {
    /** Persisted, not yet acknowledged by a node: broadcast it (again). */
    SIGNED,
    /** A node took it into its pool at least once. */
    SENT
  }

  public OutboxEntry {
    if (nonce < 0) {
      throw new IllegalArgumentException("nonce must be >= 0");
    }
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(txHash, "txHash");
    Objects.requireNonNull(rawTx, "rawTx");
    Objects.requireNonNull(gasPriceWei, "gasPriceWei");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(sentAt, "sentAt");
    earlierHashes = List.copyOf(earlierHashes);
    items = List.copyOf(items);
    if (items.isEmpty()) {
      throw new IllegalArgumentException("an outbox entry settles at least one pair");
    }
  }

  /** A freshly signed transaction, persisted before its broadcast. */
  public static OutboxEntry signed(
      long nonce,
      String txHash,
      String rawTx,
      BigInteger gasPriceWei,
      List<SettlementItem> items,
      Instant now) {
    return new OutboxEntry(
        nonce, State.SIGNED, txHash, rawTx, gasPriceWei, 0, List.of(), items, now, now);
  }

  /** A node acknowledged the current version. */
  public OutboxEntry sent() {
    return new OutboxEntry(
        nonce,
        State.SENT,
        txHash,
        rawTx,
        gasPriceWei,
        attempt,
        earlierHashes,
        items,
        createdAt,
        sentAt);
  }

  /** A new version with the same nonce and a higher price, not yet broadcast. */
  public OutboxEntry replacedBy(String newHash, String newRaw, BigInteger newPrice, Instant now) {
    if (newPrice.compareTo(gasPriceWei) <= 0) {
      throw new IllegalArgumentException("a replacement must pay more than " + gasPriceWei);
    }
    List<String> earlier = new ArrayList<>(earlierHashes);
    earlier.add(txHash);
    return new OutboxEntry(
        nonce,
        State.SIGNED,
        newHash,
        newRaw,
        newPrice,
        attempt + 1,
        earlier,
        items,
        createdAt,
        now);
  }

  /** Every hash this nonce was signed under, the current one first. */
  public List<String> allHashes() {
    List<String> all = new ArrayList<>(earlierHashes.size() + 1);
    all.add(txHash);
    for (int i = earlierHashes.size() - 1; i >= 0; i--) {
      all.add(earlierHashes.get(i));
    }
    return all;
  }

  /** The pairs it settles. */
  public List<PairId> pairs() {
    return items.stream().map(SettlementItem::pair).toList();
  }
}
