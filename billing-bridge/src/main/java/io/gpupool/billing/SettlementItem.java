package io.gpupool.billing;

import java.math.BigInteger;
import java.util.Objects;

/**
 * One entry of a settlement: the pair and its cumulative cost in wei. The contract pays only the
 * part of {@code cumulativeWei} it has not paid yet.
 */
public record SettlementItem(PairId pair, BigInteger cumulativeWei) {

  /** The contract stores amounts as uint128. */
  public static final BigInteger MAX_AMOUNT =
      BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);

  public SettlementItem {
    Objects.requireNonNull(pair, "pair");
    Objects.requireNonNull(cumulativeWei, "cumulativeWei");
    if (cumulativeWei.signum() < 0 || cumulativeWei.compareTo(MAX_AMOUNT) > 0) {
      throw new IllegalArgumentException("cumulative out of uint128 range: " + cumulativeWei);
    }
  }
}
