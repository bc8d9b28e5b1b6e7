package io.gpupool.billing.settlement;

import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.ledger.OutboxEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The state machine of one persisted outbox transaction, as a pure function of what the chain
 * shows: persisted (SIGNED) → broadcast (SENT) → mined → confirmed at depth → done; replaced by a
 * version with the same nonce and a higher fee when stuck; abandoned only when the chain proves it
 * can never pay anything (its nonce went to another transaction, or every pair's settled cursor on
 * chain is already at or past what it reports). Nothing here sends a second transaction for the
 * same usage: a lost or dropped transaction is broadcast again byte for byte.
 */
public final class OutboxTransition {

  private OutboxTransition() {}

  /** What the settlement loop does next with the entry. */
  public enum Action {
    /** Broadcast the current raw transaction (again): not yet sent, or dropped from the pool. */
    BROADCAST,
    /** A node holds it but the entry still says SIGNED (the process stopped after broadcast). */
    MARK_SENT,
    /** Pending or mined but not yet deep enough: nothing to do. */
    WAIT,
    /** Pending longer than the stuck delay: sign the same call, same nonce, higher fee. */
    REPLACE,
    /** Mined successfully and deep enough: move the cursors, remove the entry. */
    CONFIRMED,
    /** Mined and reverted at depth: nothing was paid; the pairs go back to the queue. */
    REVERTED,
    /** The chain shows it can never pay: remove it, the pairs go back to the queue. */
    ABANDON
  }

  /**
   * What the chain shows about one entry. The suppliers are asked only when the decision needs them
   * (each may be a JSON-RPC call).
   *
   * @param receipt the receipt of whichever of its versions was mined, if any
   * @param latestBlock the latest block number
   * @param minedNonce how many of the reporter's transactions are mined (read before the receipts,
   *     so that a version mined in between is not mistaken for another transaction)
   * @param pooled whether the node holds any version of it (pending)
   * @param alreadyPaid whether the chain's paid figure of every pair is at least what it reports
   * @param now the current time
   */
  public record Observation(
      Optional<SettlementReceipt> receipt,
      LongSupplier latestBlock,
      long minedNonce,
      BooleanSupplier pooled,
      BooleanSupplier alreadyPaid,
      Instant now) {}

  /** The next action for {@code entry}. */
  public static Action next(
      OutboxEntry entry, Observation seen, int confirmations, Duration stuckAfter) {
    if (seen.receipt().isPresent()) {
      SettlementReceipt r = seen.receipt().get();
      if (confirmations > 1
          && seen.latestBlock().getAsLong() - r.blockNumber() + 1 < confirmations) {
        return Action.WAIT;
      }
      return r.success() ? Action.CONFIRMED : Action.REVERTED;
    }
    if (seen.minedNonce() > entry.nonce()) {
      // The nonce is spent and none of our versions has a receipt: another transaction took it.
      return Action.ABANDON;
    }
    if (!seen.pooled().getAsBoolean()) {
      return seen.alreadyPaid().getAsBoolean() ? Action.ABANDON : Action.BROADCAST;
    }
    if (entry.state() == OutboxEntry.State.SIGNED) {
      return Action.MARK_SENT;
    }
    if (!seen.now().isBefore(entry.sentAt().plus(stuckAfter))) {
      return Action.REPLACE;
    }
    return Action.WAIT;
  }
}
