package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * A node's outage starts at its Ready condition's transition time, but the node's kubelet reports
 * it: never before the operator last saw the node Ready, never after it saw it NotReady.
 */
class NodeOutagesTest {
  static final Instant T0 = Instant.parse("2026-12-06T10:00:00Z");

  @Test
  void anHonestTransitionBetweenTheLastReadyAndTheObservationIsTheOutageStart() {
    NodeOutages o = new NodeOutages();
    o.observe("n", true, null, T0);
    assertThat(o.billableUntil("n")).contains(T0);
    Instant transition = T0.plusSeconds(7);
    assertThat(o.observe("n", false, transition, T0.plusSeconds(10))).contains(transition);
    assertThat(o.outageStart("n")).contains(transition);
    assertThat(o.billableUntil("n")).contains(transition);
  }

  @Test
  void aTransitionBackdatedBeforeTheLastReadySightingStartsAtThatSighting() {
    NodeOutages o = new NodeOutages();
    o.observe("n", true, null, T0.plusSeconds(30));
    assertThat(o.observe("n", false, T0, T0.plusSeconds(40))).contains(T0.plusSeconds(30));
  }

  @Test
  void aTransitionInTheFutureStartsWhenTheOperatorSawTheNodeDown() {
    NodeOutages o = new NodeOutages();
    o.observe("n", true, null, T0);
    Instant seen = T0.plusSeconds(5);
    assertThat(o.observe("n", false, T0.plusSeconds(3600), seen)).contains(seen);
    assertThat(o.observe("n", false, null, T0.plusSeconds(6)))
        .as("an outage is revealed once")
        .isEmpty();
  }

  @Test
  void aNodeNeverSeenReadyIsDownFromItsTransitionAtTheLatestWhenSeen() {
    NodeOutages o = new NodeOutages();
    assertThat(o.billableUntil("n")).isEmpty();
    assertThat(o.observe("n", false, T0, T0.plusSeconds(60))).contains(T0);
    assertThat(o.observe("m", false, null, T0)).contains(T0);
  }

  @Test
  void aRecoveredNodeIsBillableAgainAndANewOutageStartsAfterTheRecovery() {
    NodeOutages o = new NodeOutages();
    o.observe("n", true, null, T0);
    o.observe("n", false, T0.plusSeconds(1), T0.plusSeconds(2));
    o.observe("n", true, null, T0.plusSeconds(20));
    assertThat(o.outageStart("n")).isEmpty();
    assertThat(o.billableUntil("n")).contains(T0.plusSeconds(20));
    // the second outage reports the first transition again: not before the recovery was seen
    assertThat(o.observe("n", false, T0.plusSeconds(1), T0.plusSeconds(25)))
        .contains(T0.plusSeconds(20));
  }

  @Test
  void aNodeThatLeftStoppedWhenItWasSeenGone() {
    NodeOutages o = new NodeOutages();
    o.observe("n", true, null, T0);
    assertThat(o.left("n", T0.plusSeconds(9))).contains(T0.plusSeconds(9));
    o.retainOnly(java.util.Set.of());
    assertThat(o.billableUntil("n")).isEmpty();
  }
}
