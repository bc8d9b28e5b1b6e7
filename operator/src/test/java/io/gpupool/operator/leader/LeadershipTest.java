package io.gpupool.operator.leader;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeadershipTest {

  @Test
  void withoutElectionThisReplicaLeadsAndRunsLeaderWorkAtOnce() {
    Leadership leadership = new Leadership(false);
    List<String> ran = new ArrayList<>();

    leadership.whenLeading(() -> ran.add("meter"));

    assertThat(leadership.isLeader()).isTrue();
    assertThat(ran).containsExactly("meter");
  }

  @Test
  void aFollowerDefersLeaderWorkUntilItAcquiresTheLeaseAndRunsItOnce() {
    Leadership leadership = new Leadership(true);
    List<String> ran = new ArrayList<>();

    leadership.whenLeading(() -> ran.add("meter"));
    leadership.whenLeading(() -> ran.add("settle"));
    assertThat(leadership.isLeader()).isFalse();
    assertThat(ran).isEmpty();

    leadership.acquired();
    leadership.acquired();
    assertThat(leadership.isLeader()).isTrue();
    assertThat(ran).containsExactly("meter", "settle");

    leadership.whenLeading(() -> ran.add("late"));
    assertThat(ran).containsExactly("meter", "settle", "late");
  }

  @Test
  void oneFailingActionDoesNotKeepTheOthersFromStarting() {
    Leadership leadership = new Leadership(true);
    List<String> ran = new ArrayList<>();
    leadership.whenLeading(
        () -> {
          throw new IllegalStateException("chain unreachable");
        });
    leadership.whenLeading(() -> ran.add("meter"));

    leadership.acquired();

    assertThat(ran).containsExactly("meter");
  }

  @Test
  void losingTheLeaseStopsLeading() {
    Leadership leadership = new Leadership(true);
    leadership.acquired();
    leadership.lost();
    assertThat(leadership.isLeader()).isFalse();
  }
}
