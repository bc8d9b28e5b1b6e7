package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class MeteringFollowUpsTest {

  private final AtomicLong now = new AtomicLong(1_000_000_000L);
  private final MeteringFollowUps followUps =
      new MeteringFollowUps(Duration.ofSeconds(1), now::get);
  private final AtomicInteger runs = new AtomicInteger();

  /** Tasks handed to the meter's thread, with their delays, not yet run. */
  private final List<Runnable> queued = new ArrayList<>();

  private final List<Long> delays = new ArrayList<>();

  private final MeteringFollowUps.Scheduler scheduler =
      (task, delayNanos) -> {
        queued.add(task);
        delays.add(delayNanos);
      };

  MeteringFollowUpsTest() {
    followUps.add(runs::incrementAndGet);
  }

  @Test
  void aBurstOfPodEndsIsFollowedByOneRunNotOnePerPodEnd() {
    for (int podEnd = 0; podEnd < 500; podEnd++) {
      followUps.request(scheduler);
    }
    assertThat(queued).hasSize(1);
    assertThat(delays).containsExactly(0L); // never ran: at once
    runQueued();
    assertThat(runs).hasValue(1);
  }

  @Test
  void aPodEndWhileTheHooksRunGetsARunOfItsOwnAfterTheGap() {
    followUps.request(scheduler);
    followUps.add(() -> followUps.request(scheduler)); // a pod end metered meanwhile
    runQueued();
    assertThat(runs).hasValue(1);
    assertThat(queued).as("the later pod end is not lost").hasSize(1);
    assertThat(delays.get(1)).isEqualTo(Duration.ofSeconds(1).toNanos());
  }

  @Test
  void runsAreAtLeastTheGapApartCountedFromTheLastStart() {
    followUps.runNow(); // a full metering pass
    now.addAndGet(Duration.ofMillis(300).toNanos());
    followUps.request(scheduler);
    assertThat(delays).containsExactly(Duration.ofMillis(700).toNanos());
    runQueued();
    now.addAndGet(Duration.ofSeconds(5).toNanos());
    followUps.request(scheduler);
    assertThat(delays.get(1)).isZero();
    assertThat(runs).hasValue(2);
  }

  @Test
  void aClosedMeterRefusesTheRunAndALaterAskIsNotSwallowed() {
    followUps.request(
        (task, delay) -> {
          throw new RejectedExecutionException("closed");
        });
    followUps.request(scheduler);
    assertThat(queued).hasSize(1);
  }

  @Test
  void aFailingHookDoesNotStopLaterRuns() {
    followUps.add(
        () -> {
          throw new IllegalStateException("store unreadable");
        });
    followUps.request(scheduler);
    runQueued();
    followUps.request(scheduler);
    runQueued();
    assertThat(runs).hasValue(2);
  }

  private void runQueued() {
    List<Runnable> due = new ArrayList<>(queued);
    queued.clear();
    due.forEach(Runnable::run);
  }
}
