package io.gpupool.scheduler.hold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** Who becomes the head, what it holds, and who may still use held GPUs. */
class GangHoldTest {
  static final long MIN = 60_000;
  final Scheduler scheduler = new Scheduler();
  final GangHold hold = new GangHold(scheduler, Duration.ofMinutes(2));

  static JobRequest gang(String id, int gpus) {
    return JobRequest.builder(id, ModelSpec.of(1_000_000_000L, 24)).workers(1, gpus).build();
  }

  static JobRequest one(String id) {
    return JobRequest.builder(id, ModelSpec.of(100_000_000L, 12)).workers(1, 1).build();
  }

  /** Node a: 8 GPUs, {@code busyOnA} of them held by 1-GPU jobs a0, a1, …; node b idle. */
  static PoolSnapshot pool(int busyOnA) {
    List<Allocation> busy = new ArrayList<>();
    for (int g = 0; g < busyOnA; g++) {
      busy.add(new Allocation("a" + g, "a", new int[] {g}, 1000, 0, 0));
    }
    return PoolSnapshot.of(List.of(GangStarvationTest.node("a"), dearer("b")), busy).with(fullB());
  }

  /** Node b costs twice as much as a: a gang planned on the empty pool goes to a. */
  static PoolNode dearer(String name) {
    PoolNode n = GangStarvationTest.node(name);
    return new PoolNode(
        n.name(),
        n.provider(),
        n.region(),
        n.zone(),
        n.gpuProduct(),
        n.gpuCount(),
        n.gpuMemoryMib(),
        n.sharingReplicas(),
        n.cpuMillis(),
        n.memoryMib(),
        2 * n.pricePerGpuHour(),
        n.reliability(),
        true);
  }

  static List<Allocation> fullB() {
    List<Allocation> out = new ArrayList<>();
    for (int g = 0; g < 8; g++) {
      out.add(new Allocation("b" + g, "b", new int[] {g}, 1000, 0, 0));
    }
    return out;
  }

  @Test
  void aGangBecomesTheHeadOnlyAfterHoldAfter() {
    PoolSnapshot pool = pool(6);
    assertThat(hold.unplaced(gang("g", 8), 0, pool, Endings.UNKNOWN, MIN)).isNull();
    assertThat(hold.view("x", OptionalLong.empty(), pool, Endings.UNKNOWN, MIN).holdsBack())
        .isFalse();
    Reservation r = hold.unplaced(gang("g", 8), 0, pool, Endings.UNKNOWN, 2 * MIN);
    assertThat(r.head()).isEqualTo("g");
    assertThat(r.targetGpus()).isEqualTo(8);
    assertThat(r.shadowMillis()).isEqualTo(Long.MAX_VALUE);
    // On the pool emptied of jobs the gang goes to the cheaper node a; its 2 free GPUs are held.
    assertThat(r.target()).isEqualTo(Map.of("a", 8));
    assertThat(r.held()).isEqualTo(Map.of("a", 2));
    assertThat(r.describe()).startsWith("holds a reservation: ");
  }

  @Test
  void aOneGpuJobNeverHoldsAndTheLongestWaitingGangIsTheHead() {
    PoolSnapshot pool = pool(6);
    assertThat(hold.unplaced(one("solo"), 0, pool, Endings.UNKNOWN, 10 * MIN)).isNull();
    assertThat(hold.unplaced(gang("late", 4), 5 * MIN, pool, Endings.UNKNOWN, 6 * MIN)).isNull();
    assertThat(hold.unplaced(gang("early", 8), 1 * MIN, pool, Endings.UNKNOWN, 10 * MIN))
        .isNotNull();
    assertThat(hold.unplaced(gang("late", 4), 5 * MIN, pool, Endings.UNKNOWN, 10 * MIN)).isNull();
    assertThat(hold.head()).isEqualTo("early");
  }

  @Test
  void otherJobsDoNotGetHeldGpusButTheHeadDoes() {
    PoolSnapshot pool =
        pool(6); // 2 free on a; b full, so the target is a (free GPUs weigh nothing)
    Reservation r = hold.unplaced(gang("g", 8), 0, pool, Endings.UNKNOWN, 3 * MIN);
    assertThat(r.target()).containsOnlyKeys("a");
    GangHold.HeldView seen = hold.view("x", OptionalLong.empty(), pool, Endings.UNKNOWN, 3 * MIN);
    assertThat(seen.holdsBack()).isTrue();
    assertThat(seen.behind().head()).isEqualTo("g");
    assertThat(seen.snapshot().state("a").wholeFree()).isZero();
    assertThat(scheduler.plan(one("x"), seen.snapshot())).isNotInstanceOf(Plan.class);
    assertThat(hold.view("g", OptionalLong.empty(), pool, Endings.UNKNOWN, 3 * MIN).holdsBack())
        .isFalse();
  }

  @Test
  void aJobSureToEndBeforeTheShadowTimeIsBackfilled() {
    PoolSnapshot pool = pool(6);
    // Every job on a and b must end within 10 minutes: the head can start by then at the latest.
    Endings tenMinutes = id -> 10 * MIN;
    Reservation r = hold.unplaced(gang("g", 8), 0, pool, tenMinutes, 3 * MIN);
    assertThat(r.target()).containsOnlyKeys("a");
    assertThat(r.shadowMillis()).isEqualTo(10 * MIN);
    assertThat(hold.view("short", OptionalLong.of(5 * MIN), pool, tenMinutes, 3 * MIN).holdsBack())
        .isFalse();
    assertThat(hold.view("long", OptionalLong.of(9 * MIN), pool, tenMinutes, 3 * MIN).holdsBack())
        .isTrue();
    assertThat(hold.view("unknown", OptionalLong.empty(), pool, tenMinutes, 3 * MIN).holdsBack())
        .isTrue();
  }

  @Test
  void aGangThatFitsNowhereEvenOnAnEmptyPoolHoldsNothing() {
    PoolSnapshot pool = pool(6);
    assertThat(hold.unplaced(gang("huge", 16), 0, pool, Endings.UNKNOWN, 3 * MIN)).isNull();
    assertThat(hold.view("x", OptionalLong.empty(), pool, Endings.UNKNOWN, 3 * MIN).holdsBack())
        .isFalse();
  }

  @Test
  void otherWorkloadsPodsAreNeverWaitedFor() {
    // Here b is the cheaper node, but its holders are another workload's pods: the target is a.
    PoolSnapshot pool =
        PoolSnapshot.of(List.of(dearer("a"), GangStarvationTest.node("b")), pool(6).allocations());
    Endings foreignB =
        new Endings() {
          @Override
          public long endBy(String id) {
            return Long.MAX_VALUE;
          }

          @Override
          public boolean ends(String id) {
            return !id.startsWith("b");
          }
        };
    Reservation r = hold.unplaced(gang("g", 8), 0, pool, foreignB, 3 * MIN);
    assertThat(r.target()).isEqualTo(Map.of("a", 8));
    assertThat(r.held()).isEqualTo(Map.of("a", 2));
  }

  @Test
  void theHeadPlacedLiftsTheHold() {
    PoolSnapshot pool = pool(6);
    hold.unplaced(gang("g", 8), 0, pool, Endings.UNKNOWN, 3 * MIN);
    assertThat(hold.gone("x")).isFalse();
    assertThat(hold.gone("g")).isTrue();
    assertThat(hold.head()).isNull();
    assertThat(hold.view("x", OptionalLong.empty(), pool, Endings.UNKNOWN, 3 * MIN).holdsBack())
        .isFalse();
  }

  @Test
  void aNegativeHoldAfterIsRefused() {
    assertThatThrownBy(() -> new GangHold(scheduler, Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hold-after");
  }
}
