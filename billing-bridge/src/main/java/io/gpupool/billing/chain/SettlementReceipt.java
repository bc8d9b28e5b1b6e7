package io.gpupool.billing.chain;

import java.math.BigInteger;
import java.util.List;

/**
 * Outcome of a mined settlement transaction.
 *
 * @param txHash the transaction
 * @param success status 1 (false: reverted, nothing changed)
 * @param blockNumber block it was mined in
 * @param gasUsed gas it used
 * @param events its {@code Settled} and {@code Overdrawn} events
 * @param revertReason decoded reason when it reverted, else {@code null}
 */
public record SettlementReceipt(
    String txHash,
    boolean success,
    long blockNumber,
    BigInteger gasUsed,
    List<PairEvent> events,
    DecodedError revertReason) {

  public SettlementReceipt {
    events = List.copyOf(events);
  }
}
