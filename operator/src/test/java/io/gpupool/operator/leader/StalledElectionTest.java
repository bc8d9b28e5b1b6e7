package io.gpupool.operator.leader;

import static io.gpupool.operator.leader.StalledElection.Verdict.DEPOSED_LEADER;
import static io.gpupool.operator.leader.StalledElection.Verdict.RUNNING;
import static io.gpupool.operator.leader.StalledElection.Verdict.STALLED_FOLLOWER;
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
  void aLeaseAnotherReplicaRenewsInTimeKeepsAFollowerRunning() {
    StalledElection e = new StalledElection(Duration.ofSeconds(60));
    for (long s = 0; s < 600; s += 5) {
      assertThat(e.read(false, false, at(s - 3), LEASE, at(s))).isEqualTo(RUNNING);
    }
    assertThat(e.unheldSince()).isNull();
  }

  @Test
  void aLeaseWithoutALiveHolderForLongerThanThePatienceStallsAFollower() {
    StalledElection e = new StalledElection(Duration.ofSeconds(45));
    // the leader renewed at 0 and died: the Lease lapses at 15 s
    assertThat(e.read(false, false, at(0), LEASE, at(10))).isEqualTo(RUNNING);
    assertThat(e.read(false, false, at(0), LEASE, at(16))).isEqualTo(RUNNING);
    assertThat(e.unheldSince()).isEqualTo(at(16));
    assertThat(e.read(false, false, at(0), LEASE, at(60))).isEqualTo(RUNNING);
    assertThat(e.read(false, false, at(0), LEASE, at(61))).isEqualTo(STALLED_FOLLOWER);
  }

  @Test
  void noLeaseAtAllCountsAsUnheldForAFollower() {
    StalledElection e = new StalledElection(Duration.ofSeconds(30));
    assertThat(e.read(false, false, null, LEASE, at(0))).isEqualTo(RUNNING);
    assertThat(e.read(false, false, null, LEASE, at(30))).isEqualTo(STALLED_FOLLOWER);
  }

  @Test
  void aHolderReturningOrThisReplicaLeadingStartsTheCountAgain() {
    StalledElection e = new StalledElection(Duration.ofSeconds(30));
    assertThat(e.read(false, false, null, LEASE, at(0))).isEqualTo(RUNNING);
    assertThat(e.read(false, false, at(20), LEASE, at(25))).isEqualTo(RUNNING); // taken
    assertThat(e.read(false, false, at(20), LEASE, at(40))).isEqualTo(RUNNING); // lapsed at 35
    assertThat(e.read(false, false, at(20), LEASE, at(69))).isEqualTo(RUNNING);
    assertThat(e.read(true, true, at(68), LEASE, at(70))).isEqualTo(RUNNING); // this one leads
    assertThat(e.unheldSince()).isNull();
    assertThat(e.read(false, false, at(20), LEASE, at(71))).isEqualTo(RUNNING);
  }

  @Test
  void aLeaderThatTheLeaseNoLongerNamesOrThatStoppedRenewingIsDeposed() {
    StalledElection e = new StalledElection(Duration.ofSeconds(60));
    assertThat(e.read(true, true, at(0), LEASE, at(2))).isEqualTo(RUNNING);
    assertThat(e.read(true, false, at(3), LEASE, at(4)))
        .as("another replica holds the Lease")
        .isEqualTo(DEPOSED_LEADER);
    assertThat(e.read(true, true, at(0), LEASE, at(16)))
        .as("its own renewals stopped: the Lease lapsed under it")
        .isEqualTo(DEPOSED_LEADER);
    assertThat(e.read(true, true, null, LEASE, at(16)))
        .as("no Lease read: its elector creates one at the next renewal")
        .isEqualTo(RUNNING);
  }
}
