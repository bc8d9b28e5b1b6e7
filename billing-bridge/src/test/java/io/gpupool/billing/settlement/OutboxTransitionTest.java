package io.gpupool.billing.settlement;

import static io.gpupool.billing.Fixtures.PAYER_A;
import static io.gpupool.billing.Fixtures.PROVIDER_X;
import static io.gpupool.billing.Fixtures.pair;
import static io.gpupool.billing.settlement.OutboxTransition.Action.ABANDON;
import static io.gpupool.billing.settlement.OutboxTransition.Action.BROADCAST;
import static io.gpupool.billing.settlement.OutboxTransition.Action.CONFIRMED;
import static io.gpupool.billing.settlement.OutboxTransition.Action.MARK_SENT;
import static io.gpupool.billing.settlement.OutboxTransition.Action.REPLACE;
import static io.gpupool.billing.settlement.OutboxTransition.Action.REVERTED;
import static io.gpupool.billing.settlement.OutboxTransition.Action.WAIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.chain.SettlementReceipt;
import io.gpupool.billing.chain.SignedSettlement;
import io.gpupool.billing.ledger.OutboxEntry;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class OutboxTransitionTest {
  static final Instant T0 = Instant.parse("2026-12-06T00:00:00Z");
  static final Duration STUCK = Duration.ofMinutes(3);
  static final int DEPTH = 3;

  final OutboxEntry signed =
      OutboxEntry.signed(
          7,
          "0xaa",
          "0xraw1",
          BigInteger.valueOf(1_000),
          List.of(new SettlementItem(pair("j", PAYER_A, PROVIDER_X), BigInteger.TEN)),
          T0);

  /** What the chain shows; fields a decision must not need throw when asked. */
  static OutboxTransition.Observation seen(
      SettlementReceipt receipt,
      long latest,
      long minedNonce,
      Boolean pooled,
      Boolean paid,
      Instant now) {
    return new OutboxTransition.Observation(
        Optional.ofNullable(receipt),
        () -> latest,
        minedNonce,
        () -> ask(pooled),
        () -> ask(paid),
        now);
  }

  static boolean ask(Boolean b) {
    if (b == null) {
      throw new AssertionError("the decision asked the chain for something it should not need");
    }
    return b;
  }

  static SettlementReceipt mined(long block, boolean ok) {
    return new SettlementReceipt("0xaa", ok, block, BigInteger.ONE, List.of(), null);
  }

  OutboxTransition.Action next(OutboxEntry e, OutboxTransition.Observation o) {
    return OutboxTransition.next(e, o, DEPTH, STUCK);
  }

  @Test
  void persistedThenSentThenMinedAtDepthThenDone() {
    // persisted, the node does not have it yet: broadcast
    assertThat(next(signed, seen(null, 100, 7, false, false, T0))).isEqualTo(BROADCAST);
    // the node has it but the process stopped before recording that: record it
    assertThat(next(signed, seen(null, 100, 7, true, null, T0))).isEqualTo(MARK_SENT);
    OutboxEntry sent = signed.sent();
    assertThat(sent.state()).isEqualTo(OutboxEntry.State.SENT);
    assertThat(next(sent, seen(null, 100, 7, true, null, T0.plusSeconds(10)))).isEqualTo(WAIT);
    // mined in block 100: at depth 1 and 2 it waits, at 3 it is confirmed
    assertThat(next(sent, seen(mined(100, true), 100, 8, null, null, T0))).isEqualTo(WAIT);
    assertThat(next(sent, seen(mined(100, true), 101, 8, null, null, T0))).isEqualTo(WAIT);
    assertThat(next(sent, seen(mined(100, true), 102, 8, null, null, T0))).isEqualTo(CONFIRMED);
    assertThat(next(sent, seen(mined(100, false), 102, 8, null, null, T0))).isEqualTo(REVERTED);
  }

  @Test
  void droppedFromThePoolIsBroadcastAgainWithTheSameBytes() {
    OutboxEntry sent = signed.sent();
    assertThat(next(sent, seen(null, 100, 7, false, false, T0.plusSeconds(5))))
        .isEqualTo(BROADCAST);
  }

  @Test
  void stuckIsReplacedWithTheSameNonceAndAtLeastAnEighthMoreFee() {
    OutboxEntry sent = signed.sent();
    assertThat(next(sent, seen(null, 100, 7, true, null, T0.plus(STUCK).minusSeconds(1))))
        .isEqualTo(WAIT);
    assertThat(next(sent, seen(null, 100, 7, true, null, T0.plus(STUCK)))).isEqualTo(REPLACE);
    BigInteger price = SignedSettlement.minimumReplacementPrice(sent.gasPriceWei());
    assertThat(price).isEqualTo(BigInteger.valueOf(1_125));
    assertThat(SignedSettlement.minimumReplacementPrice(BigInteger.valueOf(9)))
        .isEqualTo(BigInteger.valueOf(11)); // rounded up: 10.125 would be refused
    OutboxEntry replaced = sent.replacedBy("0xbb", "0xraw2", price, T0.plus(STUCK));
    assertThat(replaced.nonce()).isEqualTo(7);
    assertThat(replaced.state()).isEqualTo(OutboxEntry.State.SIGNED);
    assertThat(replaced.allHashes()).containsExactly("0xbb", "0xaa");
    assertThat(replaced.createdAt()).isEqualTo(T0); // the alert's age is not reset
    // the new version is measured from its own send time
    assertThat(
            next(replaced.sent(), seen(null, 100, 7, true, null, T0.plus(STUCK).plusSeconds(60))))
        .isEqualTo(WAIT);
    assertThatThrownBy(() -> sent.replacedBy("0xcc", "0xraw3", sent.gasPriceWei(), T0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void abandonedOnlyWhenTheChainShowsItCanNeverPay() {
    OutboxEntry sent = signed.sent();
    // the nonce is spent and no version of ours has a receipt: another transaction took it
    assertThat(next(sent, seen(null, 100, 8, null, null, T0))).isEqualTo(ABANDON);
    // out of the pool and every pair's cursor on chain is already at or past it
    assertThat(next(sent, seen(null, 100, 7, false, true, T0))).isEqualTo(ABANDON);
    // still pooled though already paid: it holds the nonce, so it is left to be mined (pays 0)
    assertThat(next(sent, seen(null, 100, 7, true, null, T0))).isEqualTo(WAIT);
    // a version of ours was mined: never abandoned, whatever the nonce says
    assertThat(next(sent, seen(mined(99, true), 101, 9, null, null, T0))).isEqualTo(CONFIRMED);
  }
}
