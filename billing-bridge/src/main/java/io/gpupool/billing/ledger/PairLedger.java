package io.gpupool.billing.ledger;

import io.gpupool.billing.PairId;
import java.math.BigInteger;
import java.util.Objects;

/**
 * Persistent billing figures of one (job, payer, provider) pair: what was metered and what the
 * chain has paid. Everything is cumulative, so storing it again, late or twice is harmless.
 *
 * @param pair the pair
 * @param milliGpuMillis cumulative metered GPU time, milli-GPU x milliseconds (high-water mark)
 * @param meteredWei cumulative metered cost in wei (high-water mark)
 * @param settledWei the settled cursor: cumulative wei the chain has moved to the provider
 * @param chainOwedWei the highest cumulative the chain has recorded as owed; above {@code
 *     settledWei} when the payer's escrow ran short (overdrawn)
 * @param inFlightTx hash of a sent settlement transaction whose receipt was not yet processed, or
 *     {@code null}
 * @param setAside why the pair is kept out of settlement (it cannot be encoded, or its batch kept
 *     reverting), or {@code null}; stored with the figures so a restarted operator does not send it
 *     again until it is released
 */
public record PairLedger(
    PairId pair,
    long milliGpuMillis,
    BigInteger meteredWei,
    BigInteger settledWei,
    BigInteger chainOwedWei,
    String inFlightTx,
    String setAside) {

  public PairLedger {
    Objects.requireNonNull(pair, "pair");
    Objects.requireNonNull(meteredWei, "meteredWei");
    Objects.requireNonNull(settledWei, "settledWei");
    Objects.requireNonNull(chainOwedWei, "chainOwedWei");
  }

  /** Figures of a pair that is not set aside. */
  public PairLedger(
      PairId pair,
      long milliGpuMillis,
      BigInteger meteredWei,
      BigInteger settledWei,
      BigInteger chainOwedWei,
      String inFlightTx) {
    this(pair, milliGpuMillis, meteredWei, settledWei, chainOwedWei, inFlightTx, null);
  }

  /** A pair nothing has been metered or paid for yet. */
  public static PairLedger empty(PairId pair) {
    return new PairLedger(pair, 0, BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, null);
  }

  /** Metered but not yet paid on chain (never negative). */
  public BigInteger unsettledWei() {
    return meteredWei.subtract(settledWei).max(BigInteger.ZERO);
  }

  /** True when the metered cost is ahead of what the chain has paid. */
  public boolean pending() {
    return meteredWei.compareTo(settledWei) > 0;
  }

  /** True when the chain recorded more owed than it could pay from escrow. */
  public boolean overdrawn() {
    return chainOwedWei.compareTo(settledWei) > 0;
  }

  /** Raise the metered figures; they never go down. */
  public PairLedger withMetered(long gpuTime, BigInteger wei) {
    return new PairLedger(
        pair,
        Math.max(milliGpuMillis, gpuTime),
        meteredWei.max(wei),
        settledWei,
        chainOwedWei,
        inFlightTx,
        setAside);
  }

  /** Record what the chain says: paid and owed totals. The chain wins, even if lower. */
  public PairLedger withChain(BigInteger paid, BigInteger owed) {
    return new PairLedger(
        pair, milliGpuMillis, meteredWei, paid, owed.max(paid), inFlightTx, setAside);
  }

  public PairLedger withInFlight(String txHash) {
    return new PairLedger(
        pair, milliGpuMillis, meteredWei, settledWei, chainOwedWei, txHash, setAside);
  }

  /** Set the pair aside for {@code reason}, or release it ({@code null}). */
  public PairLedger withSetAside(String reason) {
    return new PairLedger(
        pair, milliGpuMillis, meteredWei, settledWei, chainOwedWei, inFlightTx, reason);
  }
}
