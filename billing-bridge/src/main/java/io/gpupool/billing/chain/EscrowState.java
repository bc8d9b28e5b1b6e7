package io.gpupool.billing.chain;

import java.math.BigInteger;

/**
 * A payer's escrow on chain.
 *
 * @param balanceWei available for settlement (includes the thawing amount until it is withdrawn)
 * @param thawingWei amount the payer announced to withdraw
 * @param thawEndsAt unix seconds from which the thawing amount can be withdrawn (0: no thaw)
 */
public record EscrowState(BigInteger balanceWei, BigInteger thawingWei, long thawEndsAt) {

  /** Balance that stays available if the payer withdraws what is thawing. */
  public BigInteger committedWei() {
    return balanceWei.subtract(thawingWei).max(BigInteger.ZERO);
  }
}
