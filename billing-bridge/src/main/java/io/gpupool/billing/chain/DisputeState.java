package io.gpupool.billing.chain;

import java.math.BigInteger;

/**
 * The contract's dispute record of one (payer, job, provider) pair.
 *
 * @param frozenWei what the open dispute froze (0 when none is open)
 * @param disputedTotalWei all ever disputed over the pair (the same earnings are never disputed
 *     twice)
 * @param whistleblower who the last dispute would reward (zero address: never disputed)
 * @param openedAt unix seconds the last dispute was opened (0: never)
 * @param open whether a dispute is open
 */
public record DisputeState(
    BigInteger frozenWei,
    BigInteger disputedTotalWei,
    String whistleblower,
    long openedAt,
    boolean open) {}
