package io.gpupool.billing.chain;

import java.math.BigInteger;

/**
 * A provider's stake on chain.
 *
 * @param stakedWei slashable stake, including what is being unstaked until it is withdrawn
 * @param unstakingWei amount the provider announced to take back
 * @param thawEndsAt unix seconds from which the unstaking amount can be withdrawn (0: none)
 */
public record StakeState(BigInteger stakedWei, BigInteger unstakingWei, long thawEndsAt) {

  public static final StakeState NONE = new StakeState(BigInteger.ZERO, BigInteger.ZERO, 0);

  /** The stake that stays if the provider withdraws what it is unstaking: what placement counts. */
  public BigInteger committedWei() {
    return stakedWei.subtract(unstakingWei).max(BigInteger.ZERO);
  }
}
