package io.gpupool.billing.settlement;

import static io.gpupool.billing.Fixtures.PAYER_A;
import static io.gpupool.billing.Fixtures.PAYER_B;
import static io.gpupool.billing.Fixtures.PROVIDER_X;
import static io.gpupool.billing.Fixtures.PROVIDER_Y;
import static io.gpupool.billing.Fixtures.pair;
import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.SettlementItem;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.InMemoryBillingStore;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SettlementOutboxTest {
  static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
  final InMemoryBillingStore store = new InMemoryBillingStore();
  final BillingLedger ledger = new BillingLedger(store);
  final SettlementOutbox outbox =
      new SettlementOutbox(
          ledger, new Backoff(Duration.ofSeconds(10), Duration.ofMinutes(1), 2, 0), () -> 0.0);
  final PairId a = pair("j1", PAYER_B, PROVIDER_Y);
  final PairId b = pair("j2", PAYER_A, PROVIDER_Y);
  final PairId c = pair("j3", PAYER_A, PROVIDER_X);

  void meter(PairId p, long wei) {
    store.update(p, l -> l.withMetered(wei, BigInteger.valueOf(wei)));
  }

  @Test
  void dueIsEveryUnsettledPairSortedByPayerThenProvider() {
    meter(a, 5);
    meter(b, 7);
    meter(c, 9);
    store.update(c, l -> l.withChain(BigInteger.valueOf(9), BigInteger.valueOf(9)));
    List<SettlementItem> due = outbox.due(NOW, Set.of());
    assertThat(due)
        .containsExactly(
            new SettlementItem(b, BigInteger.valueOf(7)),
            new SettlementItem(a, BigInteger.valueOf(5)));
  }

  @Test
  void inFlightAndSkippedPayersAreNotDue() {
    meter(a, 5);
    meter(b, 7);
    store.update(a, l -> l.withInFlight("0xabc"));
    assertThat(outbox.due(NOW, Set.of())).extracting(SettlementItem::pair).containsExactly(b);
    assertThat(outbox.due(NOW, Set.of(PAYER_A))).isEmpty();
  }

  @Test
  void failedPairsBackOffAndComeBack() {
    meter(a, 5);
    outbox.retryLater(List.of(a), NOW);
    assertThat(outbox.attempts(a)).isEqualTo(1);
    assertThat(outbox.due(NOW.plusSeconds(9), Set.of())).isEmpty();
    assertThat(outbox.due(NOW.plusSeconds(10), Set.of())).hasSize(1);
    outbox.retryLater(List.of(a), NOW);
    assertThat(outbox.due(NOW.plusSeconds(19), Set.of())).isEmpty();
    assertThat(outbox.due(NOW.plusSeconds(20), Set.of())).hasSize(1);
    outbox.delivered(List.of(a));
    assertThat(outbox.attempts(a)).isZero();
    assertThat(outbox.due(NOW, Set.of())).hasSize(1);
  }

  @Test
  void batchesRespectTheSizeAndKeepOrder() {
    List<SettlementItem> items =
        List.of(
            new SettlementItem(a, BigInteger.ONE),
            new SettlementItem(b, BigInteger.TWO),
            new SettlementItem(c, BigInteger.TEN));
    assertThat(SettlementOutbox.batches(items, 2))
        .containsExactly(items.subList(0, 2), items.subList(2, 3));
    assertThat(SettlementOutbox.batches(items, 100)).containsExactly(items);
    assertThat(SettlementOutbox.batches(List.of(), 100)).isEmpty();
  }
}
