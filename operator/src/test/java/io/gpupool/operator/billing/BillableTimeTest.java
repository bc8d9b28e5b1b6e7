package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The kubelet's container times never extend billing past what the operator observed. */
class BillableTimeTest {
  static final Instant CREATED = Instant.parse("2026-12-06T10:00:00Z");
  static final Instant SEEN = Instant.parse("2026-12-06T10:00:20Z");

  @Test
  void aStartedAtBeforeThePodWasCreatedBillsFromItsCreation() {
    assertThat(BillableTime.start(CREATED.minusSeconds(3600), CREATED, SEEN)).isEqualTo(CREATED);
  }

  @Test
  void aStartedAtAfterTheOperatorSawThePodRunningBillsFromWhenItWasSeen() {
    assertThat(BillableTime.start(SEEN.plusSeconds(600), CREATED, SEEN)).isEqualTo(SEEN);
  }

  @Test
  void anHonestStartedAtIsKeptToTheMillisecond() {
    Instant started = CREATED.plusMillis(4321);
    assertThat(BillableTime.start(started, CREATED, SEEN)).isEqualTo(started);
    assertThat(BillableTime.start(null, CREATED, SEEN)).isNull();
  }

  @Test
  void aFinishedAtInTheFutureEndsWhenTheOperatorSawThePodStop() {
    Instant start = CREATED.plusSeconds(1);
    Instant stopSeen = Instant.parse("2026-12-06T10:05:00Z");
    assertThat(BillableTime.end(Instant.parse("2027-12-06T10:00:00Z"), start, stopSeen))
        .isEqualTo(stopSeen);
  }

  @Test
  void aFinishedAtBeforeTheStartBillsNothingAndAHonestOneIsKept() {
    Instant start = CREATED.plusSeconds(10);
    Instant stopSeen = Instant.parse("2026-12-06T10:05:00Z");
    assertThat(BillableTime.end(CREATED, start, stopSeen)).isEqualTo(start);
    Instant finished = Instant.parse("2026-12-06T10:04:58.250Z");
    assertThat(BillableTime.end(finished, start, stopSeen)).isEqualTo(finished);
  }

  @Test
  void aPodThatLeftRunningWithoutAnEndIsBilledUntilTheOperatorSawIt() {
    Instant stopSeen = Instant.parse("2026-12-06T10:05:00Z");
    assertThat(BillableTime.end(null, CREATED, stopSeen)).isEqualTo(stopSeen);
  }

  @Test
  void aRunningPodIsChargedNoFurtherThanItsNodeWasSeenReady() {
    Instant now = Instant.parse("2026-12-06T10:10:00.500Z");
    Instant start = CREATED;
    // node fine: a second behind now, whole seconds
    assertThat(BillableTime.provisionalEnd(now, now, start, null))
        .isEqualTo(Instant.parse("2026-12-06T10:09:59Z"));
    // node last seen Ready (or down since) a minute ago: no further
    Instant cap = Instant.parse("2026-12-06T10:09:00Z");
    assertThat(BillableTime.provisionalEnd(now, cap, start, null)).isEqualTo(cap);
    // what was already charged is never taken back
    Instant charged = Instant.parse("2026-12-06T10:09:30Z");
    assertThat(BillableTime.provisionalEnd(now, cap, start, charged)).isEqualTo(charged);
    // never before the start
    assertThat(BillableTime.provisionalEnd(now, CREATED.minusSeconds(5), start, null))
        .isEqualTo(start);
  }
}
