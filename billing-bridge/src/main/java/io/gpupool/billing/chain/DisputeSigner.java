package io.gpupool.billing.chain;

import io.gpupool.billing.PairId;
import java.math.BigInteger;

/**
 * Signs dispute transactions without sending them, so that the settlement outbox can persist them
 * first (nonce, raw bytes, hash) and broadcast, re-broadcast or replace them like settlements. Each
 * call is dry-run first: a call the contract refuses throws before anything is signed.
 */
public interface DisputeSigner {

  /**
   * Sign {@code openDispute} at the next free nonce, at least {@code minNonce}.
   *
   * @throws ChainRevertException when the dry run reverts (e.g. {@code DisputeAlreadyOpen})
   */
  SignedSettlement signOpenDispute(
      PairId pair, BigInteger amountWei, byte[] evidenceHash, String whistleblower, long minNonce);

  /**
   * Sign {@code resolveDispute} at the next free nonce, at least {@code minNonce}.
   *
   * @throws ChainRevertException when the dry run reverts (e.g. {@code NoOpenDispute})
   */
  SignedSettlement signResolveDispute(PairId pair, boolean fraud, long minNonce);

  /**
   * Sign {@code expireDispute} at the next free nonce, at least {@code minNonce}.
   *
   * @throws ChainRevertException when the dry run reverts (e.g. {@code DisputeNotExpired})
   */
  SignedSettlement signExpireDispute(PairId pair, long minNonce);

  /**
   * Sign {@code slashStake} at the next free nonce, at least {@code minNonce}.
   *
   * @throws ChainRevertException when the dry run reverts (e.g. {@code SlashTooSoon})
   */
  SignedSettlement signSlashStake(
      String provider, byte[] evidenceHash, String whistleblower, long minNonce);
}
