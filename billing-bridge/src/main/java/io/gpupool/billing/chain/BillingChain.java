package io.gpupool.billing.chain;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;

/**
 * What the settlement loop needs from the chain. {@link Web3jBillingChain} talks to a node; a
 * hand-written fake with failure switches serves pure tests.
 *
 * <p>Failures: {@link ChainUnavailableException} when the node cannot be reached, {@link
 * ChainRevertException} (with the decoded custom error) when the contract rejects the call.
 */
public interface BillingChain {

  /**
   * Dry-run and send one {@code settleBatch} transaction for {@code items} (at most 65,535 distinct
   * addresses); returns its hash without waiting for it to be mined.
   */
  String submitSettlement(List<SettlementItem> items);

  /** The receipt of a sent transaction, or empty while it is not mined. */
  Optional<SettlementReceipt> receipt(String txHash);

  /** Whether the node knows the transaction at all (pending or mined). */
  boolean isKnown(String txHash);

  /** {@code Settled} and {@code Overdrawn} events from {@code fromBlock} to the latest block. */
  List<PairEvent> pairEvents(long fromBlock);

  /** The contract's paid and owed figures of a pair. */
  PairOnChain pairState(PairId pair);

  /** A payer's escrow. */
  EscrowState escrow(String payer);

  /** A provider's withdrawable balance. */
  BigInteger providerBalance(String provider);

  /** The latest block number. */
  long latestBlock();

  /**
   * Re-send a transaction that has been pending too long, with the same nonce and data and a higher
   * gas price (a replacement). Returns the new hash, or empty when this client did not send it, it
   * is no longer pending, or the price cap is reached. Whichever of the two gets mined, the
   * cumulative settlement is the same.
   */
  default Optional<String> replaceStuck(String txHash) {
    return Optional.empty();
  }

  /**
   * A settlement round starts: a client that numbers its transactions itself takes the next nonce
   * from the node again, so a nonce the node forgot (a reorganisation, a dropped transaction found
   * by another process) is reused instead of leaving a gap every later transaction queues behind.
   */
  default void beginRound() {}
}
