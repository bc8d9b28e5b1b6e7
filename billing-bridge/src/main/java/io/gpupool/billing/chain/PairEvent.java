package io.gpupool.billing.chain;

import java.math.BigInteger;

/**
 * A {@code Settled} or {@code Overdrawn} event of one pair.
 *
 * @param kind which event
 * @param jobIdHash the on-chain job id (first 16 bytes of keccak256 of the job identifier), 0x hex
 * @param payer lower-case payer address
 * @param provider lower-case provider address
 * @param paidTotal cumulative paid after the event
 * @param owedTotal cumulative owed ({@code Overdrawn}); equals {@code paidTotal} for {@code
 *     Settled}
 * @param blockNumber block of the event
 * @param txHash transaction of the event
 */
public record PairEvent(
    Kind kind,
    String jobIdHash,
    String payer,
    String provider,
    BigInteger paidTotal,
    BigInteger owedTotal,
    long blockNumber,
    String txHash) {

  /** Event kinds. */
  public enum Kind {
    SETTLED,
    OVERDRAWN
  }
}
