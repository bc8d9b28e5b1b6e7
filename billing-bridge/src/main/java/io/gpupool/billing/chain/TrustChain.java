package io.gpupool.billing.chain;

import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What the operator needs from the chain to trust providers: their stakes, their earnings still in
 * the challenge window, and disputes opened and resolved with its verifier key (docs/trust.md).
 * Writes return the transaction hash without waiting; {@link BillingChain#receipt} says how it
 * ended. Failures as for {@link BillingChain}.
 */
public interface TrustChain {

  /** A provider's stake. */
  StakeState stake(String provider);

  /** A provider's withdrawable and maturing earnings. */
  MaturingEarnings earnings(String provider);

  /** What one pair paid and still holds, and how much of it has left the challenge window. */
  ProviderEarnings.PairEarnings pairEarnings(PairId pair);

  /** The contract's challenge window. */
  Duration challengeWindow();

  /** The dispute record of a pair. */
  DisputeState dispute(PairId pair);

  /**
   * Dry-run and send {@code openDispute}: freeze {@code amountWei} of what the pair paid, out of
   * the provider's earnings still in the window; the whistleblower is rewarded on a fraud verdict.
   *
   * @param evidenceHash 32 bytes
   */
  String openDispute(PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower);

  /** Dry-run and send {@code resolveDispute} with the verdict. */
  String resolveDispute(PairId pair, boolean fraud);

  /**
   * Dry-run and send {@code slashStake}: slash one share of {@code provider}'s stake for fraud
   * proven without a paid pair (a wrong hardware-challenge answer), part of it to {@code
   * whistleblower}, the rest burned. The contract allows one per provider per challenge window.
   *
   * @param evidenceHash 32 bytes
   */
  String slashStake(String provider, byte[] evidenceHash, String whistleblower);

  /**
   * How long a dispute may stay open on chain (the contract's {@code DISPUTE_DEADLINE}): from then
   * on {@code resolveDispute} is refused and only {@link #expireDispute} ends it, as no fraud.
   */
  Duration disputeDeadline();

  /** The latest block's timestamp: the time the contract's deadlines are measured against. */
  Instant chainTime();

  /**
   * Dry-run and send {@code expireDispute}: end a dispute open longer than {@link
   * #disputeDeadline()} as no fraud (the only end the contract still allows it).
   */
  String expireDispute(PairId pair);

  /** The address whose key signs (the verifier, also the reporter). */
  String signerAddress();

  /** The contract's paid and owed figures of a pair (what a dispute is bounded by). */
  PairOnChain pairState(PairId pair);

  /** The receipt of a sent transaction, or empty while it is not mined. */
  Optional<SettlementReceipt> receipt(String txHash);
}
