package io.gpupool.operator.leader;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StalledElectionTest {
  private static final Duration LEASE = Duration.ofSeconds(15);
  private static final Instant T0 = Instant.parse("2026-12-07T07:00:00Z");

  private static Instant at(long seconds) {
    return T0.plusSeconds(seconds);
  }

  @Test
  void aLeaseRenewedInTimeIsHeldAndNeverStalls() {
    StalledElection e = new StalledElection(Duration.ofSeconds(45));
    for (long s = 0; s < 600; s += 5) {
      assertThat(e.stalled(false, at(s - 3), LEASE, at(s))).isFalse();
    }
    assertThat(e.unheldSince()).isNull();
  }

  @Test
  void aLeaseWithoutALiveHolderForLongerThanThePatienceStallsAFollower() {
    StalledElection e = new StalledElection(Duration.ofSeconds(45));
    // the leader renewed at 0 and died: the Lease lapses at 15 s
    assertThat(e.stalled(false, at(0), LEASE, at(10))).isFalse();
    assertThat(e.stalled(false, at(0), LEASE, at(16))).isFalse();
    assertThat(e.unheldSince()).isEqualTo(at(16));
    assertThat(e.stalled(false, at(0), LEASE, at(60))).isFalse();
    assertThat(e.stalled(false, at(0), LEASE, at(61))).isTrue();
  }

  @Test
  void noLeaseAtAllCountsAsUnheld() {
    StalledElection e = new StalledElection(Duration.ofSeconds(30));
    assertThat(e.stalled(false, null, LEASE, at(0))).isFalse();
    assertThat(e.stalled(false, null, LEASE, at(30))).isTrue();
  }

  @Test
  void aHolderReturningOrThisReplicaLeadingStartsTheCountAgain() {
    StalledElection e = new StalledElection(Duration.ofSeconds(30));
    assertThat(e.stalled(false, null, LEASE, at(0))).isFalse();
    assertThat(e.stalled(false, at(20), LEASE, at(25))).isFalse(); // another replica took it
    assertThat(e.stalled(false, at(20), LEASE, at(40))).isFalse(); // lapsed at 35: counting anew
    assertThat(e.stalled(false, at(20), LEASE, at(69))).isFalse();
    assertThat(e.stalled(true, at(20), LEASE, at(70))).isFalse(); // this replica leads
    assertThat(e.unheldSince()).isNull();
    assertThat(e.stalled(false, at(20), LEASE, at(71))).isFalse();
  }
}
