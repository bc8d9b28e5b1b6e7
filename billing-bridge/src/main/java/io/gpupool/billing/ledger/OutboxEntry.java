package io.gpupool.billing.ledger;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One transaction of the persisted outbox, a settlement or another call of the same key (a
 * dispute): everything a restarted operator needs to re-broadcast it byte for byte or replace it
 * with the same nonce, so that no usage is ever sent in a second transaction and no nonce is left
 * as a gap. It is written before the transaction is broadcast and removed once its receipt is
 * confirmed at depth (or the chain shows it can never be mined).
 *
 * @param nonce the reporter's nonce the transaction uses (every version of it uses the same one)
 * @param state {@link State#SIGNED} until a node acknowledged it, then {@link State#SENT}
 * @param txHash hash of the current version
 * @param rawTx the current version, signed, as 0x hex (what {@code eth_sendRawTransaction} takes)
 * @param gasPriceWei gas price of the current version (a replacement pays at least 12.5 % more)
 * @param attempt 0 for the first version, +1 per replacement
 * @param earlierHashes hashes of the versions it replaced (one of them may still be mined)
 * @param items the cumulative amounts it reports, per pair (empty for a call)
 * @param createdAt when the first version was persisted (the age the alert measures)
 * @param sentAt when the current version was persisted (stuck detection measures from here)
 * @param call what the transaction does when it is not a settlement (e.g. {@code
 *     openDispute(...)}), or {@code null} for a settlement
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
    Instant sentAt,
    String call) {

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
    if (items.isEmpty() == (call == null)) {
      throw new IllegalArgumentException(
          "an outbox entry either settles at least one pair or is a call, not both or neither");
    }
  }

  /** A settlement entry. */
  public OutboxEntry(
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
    this(
        nonce,
        state,
        txHash,
        rawTx,
        gasPriceWei,
        attempt,
        earlierHashes,
        items,
        createdAt,
        sentAt,
        null);
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

  /** A freshly signed call that settles nothing ({@code call} says what it does). */
  public static OutboxEntry signedCall(
      long nonce, String txHash, String rawTx, BigInteger gasPriceWei, String call, Instant now) {
    return new OutboxEntry(
        nonce,
        State.SIGNED,
        txHash,
        rawTx,
        gasPriceWei,
        0,
        List.of(),
        List.of(),
        now,
        now,
        Objects.requireNonNull(call, "call"));
  }

  /** True for a call that settles nothing. */
  public boolean isCall() {
    return call != null;
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
        sentAt,
        call);
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
        now,
        call);
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
