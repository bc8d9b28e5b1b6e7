package io.gpupool.billing.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * Legacy gas price for settlement transactions: the node's suggestion scaled by {@code percent},
 * clamped to [{@code minWei}, {@code maxWei}]. The cap bounds what a settlement can cost when the
 * chain is congested (the transaction then waits rather than overpays); a retry of a transaction
 * that did not get mined bumps the price by {@code bumpPercent} per attempt, still capped.
 */
public record GasPricePolicy(BigInteger minWei, BigInteger maxWei, int percent, int bumpPercent) {

  public GasPricePolicy {
    Objects.requireNonNull(minWei, "minWei");
    Objects.requireNonNull(maxWei, "maxWei");
    if (minWei.signum() < 0 || maxWei.compareTo(minWei) < 0) {
      throw new IllegalArgumentException("need 0 <= minWei <= maxWei");
    }
    if (percent < 1 || bumpPercent < 0) {
      throw new IllegalArgumentException("percent must be >= 1, bumpPercent >= 0");
    }
  }

  /** 125% of the node's price, between 1 and 200 gwei, +13% per retry. */
  public static GasPricePolicy defaults() {
    return new GasPricePolicy(
        BigInteger.valueOf(1_000_000_000L), BigInteger.valueOf(200_000_000_000L), 125, 13);
  }

  /** The price to offer on attempt {@code attempt} (0 = first send) given the node's suggestion. */
  public BigInteger price(BigInteger nodeSuggestionWei, int attempt) {
    BigInteger p =
        nodeSuggestionWei.multiply(BigInteger.valueOf(percent)).divide(BigInteger.valueOf(100));
    for (int i = 0; i < attempt; i++) {
      p = p.multiply(BigInteger.valueOf(100L + bumpPercent)).divide(BigInteger.valueOf(100));
    }
    return p.max(minWei).min(maxWei);
  }
}
