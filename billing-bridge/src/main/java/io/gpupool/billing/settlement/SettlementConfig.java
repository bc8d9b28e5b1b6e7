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
 * @param confirmations a settlement counts (cursor moved, usage record collectable) only once its
 *     block is this deep: 1 = mined (default 1; on a chain that reorganises, use its finality
 *     depth)
 * @param recheckInterval how often the settled cursors are compared with the chain's pair figures,
 *     so a reorganisation deeper than {@code confirmations} moves a cursor back and the pair is
 *     sent again (default 10 min)
 */
public record SettlementConfig(
    Duration interval,
    int batchSize,
    Duration receiptTimeout,
    Duration receiptPollInterval,
    Backoff backoff,
    long reconcileFromBlock,
    Duration stuckAfter,
    int confirmations,
    Duration recheckInterval) {

  public SettlementConfig {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(receiptTimeout, "receiptTimeout");
    Objects.requireNonNull(receiptPollInterval, "receiptPollInterval");
    Objects.requireNonNull(backoff, "backoff");
    Objects.requireNonNull(stuckAfter, "stuckAfter");
    Objects.requireNonNull(recheckInterval, "recheckInterval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive");
    }
    if (batchSize < 1 || batchSize > 1000) {
      throw new IllegalArgumentException("batchSize must be in [1, 1000]: " + batchSize);
    }
    if (reconcileFromBlock < 0) {
      throw new IllegalArgumentException("reconcileFromBlock must be >= 0");
    }
    if (confirmations < 1 || confirmations > 1000) {
      throw new IllegalArgumentException("confirmations must be in [1, 1000]: " + confirmations);
    }
    if (recheckInterval.isNegative()) {
      throw new IllegalArgumentException("recheckInterval must not be negative");
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
        Duration.ofMinutes(3),
        1,
        Duration.ofMinutes(10));
  }

  public SettlementConfig withInterval(Duration v) {
    return new SettlementConfig(
        v,
        batchSize,
        receiptTimeout,
        receiptPollInterval,
        backoff,
        reconcileFromBlock,
        stuckAfter,
        confirmations,
        recheckInterval);
  }

  public SettlementConfig withBatchSize(int v) {
    return new SettlementConfig(
        interval,
        v,
        receiptTimeout,
        receiptPollInterval,
        backoff,
        reconcileFromBlock,
        stuckAfter,
        confirmations,
        recheckInterval);
  }

  public SettlementConfig withReceiptTimeout(Duration v) {
    return new SettlementConfig(
        interval,
        batchSize,
        v,
        receiptPollInterval,
        backoff,
        reconcileFromBlock,
        stuckAfter,
        confirmations,
        recheckInterval);
  }

  public SettlementConfig withBackoff(Backoff v) {
    return new SettlementConfig(
        interval,
        batchSize,
        receiptTimeout,
        receiptPollInterval,
        v,
        reconcileFromBlock,
        stuckAfter,
        confirmations,
        recheckInterval);
  }

  public SettlementConfig withStuckAfter(Duration v) {
    return new SettlementConfig(
        interval,
        batchSize,
        receiptTimeout,
        receiptPollInterval,
        backoff,
        reconcileFromBlock,
        v,
        confirmations,
        recheckInterval);
  }

  public SettlementConfig withReconcileFromBlock(long v) {
    return new SettlementConfig(
        interval,
        batchSize,
        receiptTimeout,
        receiptPollInterval,
        backoff,
        v,
        stuckAfter,
        confirmations,
        recheckInterval);
  }

  public SettlementConfig withConfirmations(int v) {
    return new SettlementConfig(
        interval,
        batchSize,
        receiptTimeout,
        receiptPollInterval,
        backoff,
        reconcileFromBlock,
        stuckAfter,
        v,
        recheckInterval);
  }

  public SettlementConfig withRecheckInterval(Duration v) {
    return new SettlementConfig(
        interval,
        batchSize,
        receiptTimeout,
        receiptPollInterval,
        backoff,
        reconcileFromBlock,
        stuckAfter,
        confirmations,
        v);
  }
}
