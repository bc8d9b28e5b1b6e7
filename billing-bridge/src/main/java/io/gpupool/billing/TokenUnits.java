package io.gpupool.billing;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * Conversion between decimal token amounts (as written in CRDs: {@code pricePerGpuHour: "0.5"}) and
 * wei, the smallest unit (10^-18) in which everything is computed and settled.
 */
public final class TokenUnits {

  /** Decimals of the native token. */
  public static final int DECIMALS = 18;

  private TokenUnits() {}

  /** Exact wei for a decimal amount; rejects negatives and more than 18 decimals. */
  public static BigInteger toWei(BigDecimal amount) {
    if (amount.signum() < 0) {
      throw new IllegalArgumentException("negative amount: " + amount);
    }
    BigDecimal wei = amount.movePointRight(DECIMALS);
    try {
      return wei.toBigIntegerExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("more than 18 decimals: " + amount, e);
    }
  }

  /** Exact wei for a decimal string such as {@code "0.25"}. */
  public static BigInteger toWei(String amount) {
    return toWei(new BigDecimal(amount.strip()));
  }

  /** Decimals shown by {@link #display}: enough for a cent's worth of a 4-digit-priced token. */
  public static final int DISPLAY_DECIMALS = 6;

  /**
   * {@code wei} for people: a fixed {@value #DISPLAY_DECIMALS} decimals (rounded half up) and the
   * token's symbol, e.g. {@code "0.012133 ETH"}. Status keeps the exact figures beside it.
   */
  public static String display(BigInteger wei, String symbol) {
    BigDecimal amount =
        new BigDecimal(wei)
            .movePointLeft(DECIMALS)
            .setScale(DISPLAY_DECIMALS, RoundingMode.HALF_UP);
    return amount.toPlainString() + " " + symbol;
  }

  /** The decimal token amount of {@code wei}, without trailing zeros (for status fields). */
  public static BigDecimal fromWei(BigInteger wei) {
    BigDecimal d = new BigDecimal(wei).movePointLeft(DECIMALS).stripTrailingZeros();
    return d.scale() < 0 ? d.setScale(0) : d;
  }
}
