package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.DisputeState;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DisputeDeadlinesTest {
  static final Instant NOW = Instant.parse("2026-12-06T08:00:00Z");
  static final Duration DEADLINE = Duration.ofDays(7);
  static final String PAYER = "0x" + "1".repeat(40);
  static final String PROVIDER = "0x" + "2".repeat(40);

  static PairId pair(String job) {
    return new PairId(job, PAYER, PROVIDER);
  }

  static DisputeState open(Instant openedAt) {
    return new DisputeState(BigInteger.TEN, BigInteger.TEN, PAYER, openedAt.getEpochSecond(), true);
  }

  @Test
  void onlyOpenDisputesAtOrPastTheDeadlineAreDue() {
    Map<PairId, DisputeState> chain =
        Map.of(
            pair("a".repeat(32)), open(NOW.minus(DEADLINE)),
            pair("b".repeat(32)), open(NOW.minus(DEADLINE).plusSeconds(1)),
            pair("c".repeat(32)),
                new DisputeState(
                    BigInteger.ZERO,
                    BigInteger.TEN,
                    PAYER,
                    NOW.minus(Duration.ofDays(30)).getEpochSecond(),
                    false),
            pair("d".repeat(32)), open(NOW.minus(Duration.ofDays(30))));
    Set<PairId> due =
        DisputeDeadlines.overdue(
                chain.keySet(), p -> Optional.ofNullable(chain.get(p)), NOW, DEADLINE)
            .keySet();
    assertThat(due)
        .as("due at the deadline and long past it; not one second early, not a closed one")
        .containsExactlyInAnyOrder(pair("a".repeat(32)), pair("d".repeat(32)));
  }

  @Test
  void aDisputeThatCannotBeReadIsLeftForTheNextScan() {
    assertThat(
            DisputeDeadlines.overdue(
                List.of(pair("a".repeat(32))), p -> Optional.empty(), NOW, DEADLINE))
        .isEmpty();
  }

  @Test
  void aDisputeIsPastTheContractsDeadlineFromItsLastSecondOnByChainTime() {
    Duration chainDeadline = Duration.ofDays(30);
    DisputeState opened = open(NOW);
    Instant due = NOW.plus(chainDeadline);
    assertThat(DisputeDeadlines.pastChainDeadline(opened, due.minusSeconds(1), chainDeadline))
        .as("one second early: still the verifier's to resolve")
        .isFalse();
    assertThat(DisputeDeadlines.pastChainDeadline(opened, due, chainDeadline))
        .as("the contract refuses resolveDispute from expiresAt on (block.timestamp >= expiresAt)")
        .isTrue();
    assertThat(DisputeDeadlines.pastChainDeadline(opened, due.plusSeconds(3600), chainDeadline))
        .isTrue();
  }

  @Test
  void scansOftenEnoughForTheDeadlineAndNoMoreThanOnceASecond() {
    assertThat(DisputeDeadlines.scanInterval(Duration.ofDays(7))).isEqualTo(Duration.ofMinutes(1));
    assertThat(DisputeDeadlines.scanInterval(Duration.ofSeconds(30)))
        .isEqualTo(Duration.ofSeconds(3));
    assertThat(DisputeDeadlines.scanInterval(Duration.ofSeconds(2)))
        .isEqualTo(Duration.ofSeconds(1));
  }
}
