package io.gpupool.billing.settlement;

import java.time.Duration;
import java.util.Objects;

/**
 * Settlement loop options; {@link #defaults()} gives every one a value.
 *
 * @param interval pause between settlement rounds (default 60 s)
 * @param batchSize most pairs in one transaction (default 100)
 * @param receiptTimeout how long a round waits for its receipts before leaving them in flight for
 *     the next round (default 30 s)
 * @param receiptPollInterval pause between receipt polls (default 250 ms)
 * @param backoff retry delay of pairs whose settlement failed (default 5 s doubling to 5 min, 20%
 *     jitter)
 * @param reconcileFromBlock first block scanned for the contract's events at start-up: its
 *     deployment block (default 0)
 * @param stuckAfter a settlement transaction still pending after this long is replaced (same nonce,
 *     higher gas price within the policy's cap) (default 3 min)
 */
public record SettlementConfig(
    Duration interval,
    int batchSize,
    Duration receiptTimeout,
    Duration receiptPollInterval,
    Backoff backoff,
    long reconcileFromBlock,
    Duration stuckAfter) {

  public SettlementConfig {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(receiptTimeout, "receiptTimeout");
    Objects.requireNonNull(receiptPollInterval, "receiptPollInterval");
    Objects.requireNonNull(backoff, "backoff");
    Objects.requireNonNull(stuckAfter, "stuckAfter");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive");
    }
    if (batchSize < 1 || batchSize > 1000) {
      throw new IllegalArgumentException("batchSize must be in [1, 1000]: " + batchSize);
    }
    if (reconcileFromBlock < 0) {
      throw new IllegalArgumentException("reconcileFromBlock must be >= 0");
    }
  }

  public static SettlementConfig defaults() {
    return new SettlementConfig(
        Duration.ofSeconds(60),
        100,
        Duration.ofSeconds(30),
        Duration.ofMillis(250),
        new Backoff(Duration.ofSeconds(5), Duration.ofMinutes(5), 2.0, 0.2),
        0,
        Duration.ofMinutes(3));
  }

  public SettlementConfig withInterval(Duration v) {
    return new SettlementConfig(
        v, batchSize, receiptTimeout, receiptPollInterval, backoff, reconcileFromBlock, stuckAfter);
  }

  public SettlementConfig withBatchSize(int v) {
    return new SettlementConfig(
        interval, v, receiptTimeout, receiptPollInterval, backoff, reconcileFromBlock, stuckAfter);
  }

  public SettlementConfig withReceiptTimeout(Duration v) {
    return new SettlementConfig(
        interval, batchSize, v, receiptPollInterval, backoff, reconcileFromBlock, stuckAfter);
  }

  public SettlementConfig withBackoff(Backoff v) {
    return new SettlementConfig(
        interval,
        batchSize,
        receiptTimeout,
        receiptPollInterval,
        v,
        reconcileFromBlock,
        stuckAfter);
  }

  public SettlementConfig withStuckAfter(Duration v) {
    return new SettlementConfig(
        interval, batchSize, receiptTimeout, receiptPollInterval, backoff, reconcileFromBlock, v);
  }

  public SettlementConfig withReconcileFromBlock(long v) {
    return new SettlementConfig(
        interval, batchSize, receiptTimeout, receiptPollInterval, backoff, v, stuckAfter);
  }
}
