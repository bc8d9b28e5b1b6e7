package io.gpupool.operator.pool;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StarvationGuardTest {
  private static final Instant NOW = Instant.parse("2026-12-06T12:00:00Z");
  private final MovingClock clock = new MovingClock();
  private final StarvationGuard guard = new StarvationGuard(Duration.ofMinutes(2), clock);

  private static final class MovingClock extends Clock {
    Instant now = NOW;

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }
  }

  @Test
  void aJobIsHeldForOnlyOnceItHasWaitedLongEnough() {
    assertThat(guard.due(NOW.minusSeconds(119))).isFalse();
    assertThat(guard.due(NOW.minusSeconds(120))).isTrue();
  }

  @Test
  void aPlacementLeavesAloneWhatIsHeldForJobsThatWaitedLonger() {
    guard.hold("TrainingJob/ns/old", NOW.minusSeconds(600), Map.of("n1", 2));
    guard.hold("TrainingJob/ns/young", NOW.minusSeconds(300), Map.of("n2", 1));
    Map<String, Map<String, Integer>> running = Map.of("TrainingJob/ns/small", Map.of("n1", 1));

    // A job nothing is held for sees every hold.
    assertThat(guard.withHolds(running, "TrainingJob/ns/new"))
        .containsEntry("TrainingJob/ns/small", Map.of("n1", 1))
        .containsEntry(StarvationGuard.HELD_PREFIX + "TrainingJob/ns/old", Map.of("n1", 2))
        .containsEntry(StarvationGuard.HELD_PREFIX + "TrainingJob/ns/young", Map.of("n2", 1));
    // A held job sees the holds of older jobs only, not its own or a younger one's.
    assertThat(guard.withHolds(running, "TrainingJob/ns/young").keySet())
        .containsExactlyInAnyOrder(
            "TrainingJob/ns/small", StarvationGuard.HELD_PREFIX + "TrainingJob/ns/old");
    assertThat(guard.withHolds(running, "TrainingJob/ns/old").keySet())
        .containsExactly("TrainingJob/ns/small");
    assertThat(guard.olderThan("TrainingJob/ns/young"))
        .extracting(StarvationGuard.Waiting::holder)
        .containsExactly("TrainingJob/ns/old");
  }

  @Test
  void aJobThatCannotBePlacedEvenOnAnEmptyPoolHoldsNothingAndIsPlannedAgainAfterAWhile() {
    guard.hold("TrainingJob/ns/huge", NOW.minusSeconds(600), Map.of());
    assertThat(guard.withHolds(Map.of(), "TrainingJob/ns/other")).isEmpty();
    assertThat(guard.target("TrainingJob/ns/huge", node -> true)).contains(Map.of());

    clock.now = NOW.plus(StarvationGuard.REPLAN_EMPTY);
    assertThat(guard.target("TrainingJob/ns/huge", node -> true)).isEmpty();
    assertThat(guard.done("TrainingJob/ns/huge")).isFalse();
  }

  @Test
  void aTargetIsKeptWhileItsNodesAreOfferedAndLetGoWhenTheJobNoLongerWaits() {
    guard.hold("TrainingJob/ns/gang", NOW.minusSeconds(600), Map.of("n1", 1, "n2", 2));
    clock.now = NOW.plus(Duration.ofHours(1)); // a target with room is kept however long
    assertThat(guard.target("TrainingJob/ns/gang", node -> true))
        .contains(Map.of("n1", 1, "n2", 2));
    assertThat(guard.target("TrainingJob/ns/gang", node -> !node.equals("n2"))).isEmpty();

    assertThat(guard.done("TrainingJob/ns/gang")).isTrue();
    assertThat(guard.done("TrainingJob/ns/gang")).isFalse();
    assertThat(guard.withHolds(Map.of(), "TrainingJob/ns/other")).isEmpty();
  }
}
