package io.gpupool.scheduler.hold;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.ModelSpec;
import io.gpupool.scheduler.model.PoolNode;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * A stream of 1-GPU jobs against one 8-GPU gang on two 8-GPU nodes, as the operator runs them:
 * every tick the jobs that ended free their GPUs and every waiting job re-plans, oldest first. Two
 * 1-GPU jobs arrive per tick and each runs 10 ticks, more than the pool serves, so the pool is
 * never idle and never shows 8 free GPUs on one node at once.
 */
class GangStarvationTest {
  static final long TICK = 10_000;
  static final int RUN_TICKS = 8;
  static final Duration HOLD_AFTER = Duration.ofMinutes(2);
  static final long HOLD_AFTER_TICKS = HOLD_AFTER.toMillis() / TICK;

  static PoolNode node(String name) {
    return new PoolNode(
        name,
        "p-" + name,
        "eu",
        "eu-a",
        "NVIDIA-A100-SXM4-80GB",
        8,
        81920,
        1,
        128_000,
        1 << 20,
        1.0,
        0.99,
        true);
  }

  static JobRequest small(int i) {
    return JobRequest.builder("small-" + i, ModelSpec.of(100_000_000L, 12)).workers(1, 1).build();
  }

  static final JobRequest GANG =
      JobRequest.builder("gang", ModelSpec.of(7_000_000_000L, 32)).workers(1, 8).build();

  /** The tick the gang was placed at, or -1 when it was not within {@code ticks}. */
  static long run(boolean reserve, boolean smallJobsDeclareRuntime, int ticks) {
    List<PoolNode> nodes = List.of(node("a"), node("b"));
    Scheduler scheduler = new Scheduler();
    GangHold hold = new GangHold(scheduler, reserve ? HOLD_AFTER : Duration.ofDays(3650));
    List<Allocation> running = new ArrayList<>();
    Map<String, Long> endsAt = new HashMap<>();
    Endings endings =
        id -> smallJobsDeclareRuntime && endsAt.containsKey(id) ? endsAt.get(id) : Long.MAX_VALUE;
    List<JobRequest> pending = new ArrayList<>();
    int next = 0;
    for (; next < 16; next++) { // the pool starts full, two jobs ending per tick
      String node = next < 8 ? "a" : "b";
      running.add(new Allocation("small-" + next, node, new int[] {next % 8}, 1000, 0, 0));
      endsAt.put("small-" + next, (next / 2 + 1) * TICK);
    }
    pending.add(small(next++)); // a backlog of two, then the gang
    pending.add(small(next++));
    pending.add(GANG);
    for (long tick = 0; tick < ticks; tick++) {
      long now = tick * TICK;
      running.removeIf(a -> endsAt.get(a.jobId()) <= now);
      for (JobRequest r : new ArrayList<>(pending)) {
        PoolSnapshot pool = PoolSnapshot.of(nodes, running);
        boolean isGang = r == GANG;
        OptionalLong runtime =
            !isGang && smallJobsDeclareRuntime
                ? OptionalLong.of(RUN_TICKS * TICK)
                : OptionalLong.empty();
        PoolSnapshot seen = hold.view(r.id(), runtime, pool, endings, now).snapshot();
        PlanResult result = scheduler.plan(r, seen);
        if (result instanceof Plan p) {
          running.addAll(p.allocations());
          endsAt.put(r.id(), now + (isGang ? 100 : RUN_TICKS) * TICK);
          pending.remove(r);
          hold.gone(r.id());
          if (isGang) {
            return tick;
          }
        } else if (isGang) {
          hold.unplaced(r, 0, pool, endings, now);
        }
      }
      pending.add(small(next++));
      pending.add(small(next++));
    }
    return -1;
  }

  @Test
  void withoutAReservationTheGangNeverPlaces() {
    assertThat(run(false, false, 300)).isEqualTo(-1);
  }

  @Test
  void withTheReservationTheGangPlacesOnceTheJobsOnItsTargetHaveEnded() {
    // It becomes the head after HOLD_AFTER; the small jobs on its target node end within RUN_TICKS.
    long placedAt = run(true, false, 300);
    assertThat(placedAt).isBetween(HOLD_AFTER_TICKS, HOLD_AFTER_TICKS + RUN_TICKS + 1);
  }

  @Test
  void smallJobsWithDeadlinesAreBackfilledWithoutDelayingTheGang() {
    long placedAt = run(true, true, 300);
    assertThat(placedAt).isBetween(HOLD_AFTER_TICKS, HOLD_AFTER_TICKS + RUN_TICKS + 1);
  }
}
