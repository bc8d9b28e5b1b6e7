package io.gpupool.billing.chain;

import java.math.BigInteger;

/** A pair's cumulative paid and owed figures as stored by the contract. */
public record PairOnChain(BigInteger paidWei, BigInteger owedWei) {}
