package io.gpupool.billing;

import java.math.BigInteger;
import java.util.Objects;

/**
 * One entry of a settlement: the pair and its cumulative cost in wei. The contract pays only the
 * part of {@code cumulativeWei} it has not paid yet.
 */
public record SettlementItem(PairId pair, BigInteger cumulativeWei) {

  /** A batch entry carries the cumulative amount in 96 bits (about 79 billion tokens). */
  public static final BigInteger MAX_AMOUNT = BigInteger.ONE.shiftLeft(96).subtract(BigInteger.ONE);

  public SettlementItem {
    Objects.requireNonNull(pair, "pair");
    Objects.requireNonNull(cumulativeWei, "cumulativeWei");
    if (cumulativeWei.signum() < 0 || cumulativeWei.compareTo(MAX_AMOUNT) > 0) {
      throw new IllegalArgumentException("cumulative out of uint96 range: " + cumulativeWei);
    }
  }
}
