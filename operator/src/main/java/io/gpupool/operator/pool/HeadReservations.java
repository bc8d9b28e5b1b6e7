package io.gpupool.operator.pool;

import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.scheduler.hold.Endings;
import io.gpupool.scheduler.hold.GangHold;
import io.gpupool.scheduler.hold.Reservation;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolSnapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The operator's side of {@link GangHold}, the head reservation for jobs outside GpuQueues: the
 * deadlines of running gangs (their shadow time), which holdings are other workloads' pods, and
 * whether a hold was lifted (the jobs waiting behind it must be woken). Every call but {@link
 * #takeLifted} runs under the allocation ledger's lock, as the scheduler's do.
 */
final class HeadReservations {
  private final GangHold hold;
  private final Clock clock;
  private final Map<String, Long> endBy = new HashMap<>();
  private final AtomicBoolean lifted = new AtomicBoolean();

  private final Endings endings =
      new Endings() {
        @Override
        public long endBy(String id) {
          return endBy.getOrDefault(id, Long.MAX_VALUE);
        }

        @Override
        public boolean ends(String id) {
          return !id.startsWith(AllocationLedger.FOREIGN_PREFIX);
        }
      };

  HeadReservations(GangHold hold, Clock clock) {
    this.hold = hold;
    this.clock = clock;
  }

  Duration holdAfter() {
    return hold.holdAfter();
  }

  /** The pool as {@code holder} may use it; {@code runtime}: how long it runs at most, if known. */
  GangHold.HeldView view(String holder, OptionalLong runtimeMillis, PoolSnapshot snapshot) {
    return hold.view(holder, runtimeMillis, snapshot, endings, clock.millis());
  }

  /** {@code request} could not be placed; the reservation it holds as the head, or null. */
  Reservation unplaced(JobRequest request, Instant waitingSince, PoolSnapshot snapshot) {
    return hold.unplaced(request, waitingSince.toEpochMilli(), snapshot, endings, clock.millis());
  }

  /**
   * {@code holder} was placed or waits outside queues no more; runs until {@code end}, if known.
   */
  void placed(String holder, Instant end) {
    if (hold.gone(holder)) {
      lifted.set(true);
    }
    if (end == null) {
      endBy.remove(holder);
    } else {
      endBy.put(holder, end.toEpochMilli());
    }
  }

  /** {@code holder} holds nothing and waits no more (finished, suspended, deleted). */
  void left(String holder) {
    placed(holder, null);
  }

  /** Why a job that would fit but for the hold waits, for its Unschedulable condition. */
  static String heldBack(Reservation behind) {
    return "waits behind "
        + behind.head()
        + ", the gang waiting longest, which holds a reservation on the GPUs this job could use ("
        + behind.heldGpus()
        + " of its "
        + behind.targetGpus()
        + " GPUs held)";
  }

  /** True once after a head's hold was lifted: the jobs waiting behind it may be placed now. */
  boolean takeLifted() {
    return lifted.getAndSet(false);
  }
}
