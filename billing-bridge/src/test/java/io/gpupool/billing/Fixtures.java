package io.gpupool.billing;

import java.math.BigInteger;

/** Shared test values. */
public final class Fixtures {
  public static final String PAYER_A = "0x00000000000000000000000000000000000000a1";
  public static final String PAYER_B = "0x00000000000000000000000000000000000000a2";
  public static final String PROVIDER_X = "0x00000000000000000000000000000000000000b1";
  public static final String PROVIDER_Y = "0x00000000000000000000000000000000000000b2";
  public static final BigInteger GWEI = BigInteger.valueOf(1_000_000_000L);
  public static final BigInteger ETH = GWEI.multiply(GWEI);

  private Fixtures() {}

  public static PairId pair(String job, String payer, String provider) {
    return new PairId(job, payer, provider);
  }
}
