package io.gpupool.billing.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * A settlement transaction signed and not necessarily broadcast yet.
 *
 * @param nonce the reporter's nonce it uses
 * @param txHash its hash (known before broadcast: the keccak of the signed bytes)
 * @param rawTx the signed transaction as 0x hex
 * @param gasPriceWei the gas price it pays
 */
public record SignedSettlement(long nonce, String txHash, String rawTx, BigInteger gasPriceWei) {
  public SignedSettlement {
    Objects.requireNonNull(txHash, "txHash");
    Objects.requireNonNull(rawTx, "rawTx");
    Objects.requireNonNull(gasPriceWei, "gasPriceWei");
  }

  /**
   * The least gas price a node accepts for a replacement of a transaction paying {@code price}:
   * geth and anvil require at least 10 % more, some pools 12.5 %; this takes 12.5 %, rounded up.
   */
  public static BigInteger minimumReplacementPrice(BigInteger price) {
    BigInteger bumped =
        price
            .multiply(BigInteger.valueOf(9))
            .add(BigInteger.valueOf(7))
            .divide(BigInteger.valueOf(8));
    return bumped.compareTo(price) > 0 ? bumped : price.add(BigInteger.ONE);
  }
}
