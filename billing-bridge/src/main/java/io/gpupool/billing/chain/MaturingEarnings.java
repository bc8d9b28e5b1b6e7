package io.gpupool.billing.chain;

import java.math.BigInteger;

/**
 * A provider's settled earnings on chain.
 *
 * @param withdrawableWei out of the challenge window: the provider may withdraw it now
 * @param maturingWei still inside the challenge window (disputable, not withdrawable)
 * @param nextMaturesAt unix seconds when the next part of {@code maturingWei} matures (0: none)
 */
public record MaturingEarnings(
    BigInteger withdrawableWei, BigInteger maturingWei, long nextMaturesAt) {}
