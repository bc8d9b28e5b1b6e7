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
   * Dry-run {@code items} as one {@code settleBatch} (at most 65,535 distinct addresses) and sign
   * it, without broadcasting it, with the next free nonce and at least {@code minNonce} (the
   * caller's persisted outbox may hold nonces the node does not know yet).
   *
   * @throws ChainRevertException when the dry run reverts
   */
  SignedSettlement signSettlement(List<SettlementItem> items, long minNonce);

  /**
   * Sign the same call as {@code previous} with the same nonce and a higher gas price (by the price
   * policy's next attempt and at least {@link SignedSettlement#minimumReplacementPrice}). Empty
   * when that price would pass the policy's cap: then the caller keeps waiting.
   */
  Optional<SignedSettlement> signReplacement(SignedSettlement previous, int attempt);

  /** Broadcast a signed transaction ({@code eth_sendRawTransaction}). */
  BroadcastResult broadcast(String rawTx);

  /** How many transactions of the reporter are mined (the next nonce the chain expects). */
  long minedNonce();

  /** Whether the contract pays {@code provider} (it registered a payout address). */
  boolean isProviderRegistered(String provider);

  /**
   * Sign and broadcast one batch at the next free nonce, returning its hash: for tools and tests.
   * The settlement loop persists the signed transaction between the two steps instead.
   */
  default String submitSettlement(List<SettlementItem> items) {
    SignedSettlement s = signSettlement(items, 0);
    BroadcastResult r = broadcast(s.rawTx());
    if (r == BroadcastResult.NONCE_USED || r == BroadcastResult.UNDERPRICED) {
      throw new ChainException("nonce " + s.nonce() + " taken meanwhile (" + r + ")", null);
    }
    return s.txHash();
  }

  /** The receipt of a sent transaction, or empty while it is not mined. */
  Optional<SettlementReceipt> receipt(String txHash);

  /** Whether the node knows the transaction at all (pending or mined). */
  boolean isKnown(String txHash);

  /**
   * The providers that registered ({@code ProviderRegistered} events) from {@code fromBlock} to the
   * latest block, and that latest block.
   */
  ProviderRegistrations providerRegistrations(long fromBlock);

  /** {@code Settled} and {@code Overdrawn} events from {@code fromBlock} to the latest block. */
  List<PairEvent> pairEvents(long fromBlock);

  /** The contract's paid and owed figures of a pair. */
  PairOnChain pairState(PairId pair);

  /** A payer's escrow. */
  EscrowState escrow(String payer);

  /**
   * What a provider can withdraw once its matured pairs are collected: its collected balance plus
   * what its pairs hold outside the challenge window (contract version 6 keeps earnings in pairs).
   */
  BigInteger providerBalance(String provider);

  /** The latest block number. */
  long latestBlock();
}
