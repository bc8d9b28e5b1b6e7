package io.gpupool.billing.budget;

import java.math.BigInteger;

/**
 * Answer to a budget question about one payer.
 *
 * @param payer the payer address
 * @param escrowWei escrow balance on chain
 * @param committedWei escrow that stays if the payer withdraws what it is thawing
 * @param outstandingWei metered cost not yet settled on chain (will be taken from escrow)
 * @param requiredWei cost of what was asked about (0 for {@link BudgetService#isDry})
 * @param sufficient whether {@code committed - outstanding >= required} (and, for a dry check,
 *     whether anything is left)
 */
public record BudgetVerdict(
    String payer,
    BigInteger escrowWei,
    BigInteger committedWei,
    BigInteger outstandingWei,
    BigInteger requiredWei,
    boolean sufficient) {

  /** What is left after outstanding and required costs (negative when short). */
  public BigInteger headroomWei() {
    return committedWei.subtract(outstandingWei).subtract(requiredWei);
  }
}
