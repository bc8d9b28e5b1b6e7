package io.gpupool.scheduler.hold;

import io.gpupool.scheduler.model.Allocation;
import io.gpupool.scheduler.model.JobRequest;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Plan;
import io.gpupool.scheduler.plan.PlanResult;
import io.gpupool.scheduler.plan.Scheduler;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;

/**
 * A head reservation for jobs that no queue orders. Without one, every waiting job re-plans when
 * capacity frees and takes what fits, so a stream of small jobs keeps a large gang from ever seeing
 * enough free GPUs at once. Here the multi-GPU gang that has waited longest, once it has waited
 * {@code holdAfter}, becomes the head: the scheduler plans it on the pool as it would be if the
 * jobs running there had ended (other workloads' pods stay), and the GPUs, CPU and memory of that
 * target which are free now are held for it. Every other job is planned on the pool minus what is
 * held, unless it is sure to end before the head could start there (its shadow time, known when
 * every job it waits for has a deadline): EASY backfilling. A head that could not be placed even on
 * an empty pool holds nothing.
 *
 * <p>The target is kept while its nodes stay in the pool, so held GPUs add up instead of moving
 * about; the head itself is planned on the whole pool and may start elsewhere sooner. Not
 * thread-safe: the operator calls it under its allocation ledger's lock, as it calls {@link
 * Scheduler}.
 */
public final class GangHold {
  /** Allocations of held capacity are recorded under this prefix and the head's id. */
  public static final String HOLD_PREFIX = "hold:";

  private final Scheduler scheduler;
  private final long holdAfterMillis;
  private final WaitingGangs waiting = new WaitingGangs();
  private HoldTarget target;

  /** What another job sees: the pool minus what is held, and the reservation it waits behind. */
  public record HeldView(PoolSnapshot snapshot, Reservation behind) {
    public boolean holdsBack() {
      return behind != null;
    }
  }

  public GangHold(Scheduler scheduler, Duration holdAfter) {
    if (holdAfter.isNegative()) {
      throw new IllegalArgumentException("hold-after must not be negative, got " + holdAfter);
    }
    this.scheduler = scheduler;
    this.holdAfterMillis = holdAfter.toMillis();
  }

  public Duration holdAfter() {
    return Duration.ofMillis(holdAfterMillis);
  }

  /**
   * Request {@code r} could not be placed on {@code snapshot} (the pool without what it holds
   * itself). A multi-GPU gang then waits since {@code since}; when it is the head, the reservation
   * held for it now, or null (not the head, or it fits nowhere even on an empty pool).
   */
  public Reservation unplaced(
      JobRequest r, long since, PoolSnapshot snapshot, Endings endings, long now) {
    if (!WaitingGangs.isGang(r)) {
      return null;
    }
    waiting.waiting(r, since);
    JobRequest head = waiting.head(now, holdAfterMillis);
    if (head == null || !head.id().equals(r.id())) {
      return null;
    }
    if (target == null || !target.head().equals(r.id()) || !target.validIn(snapshot)) {
      PlanResult drained = scheduler.plan(r, snapshot.without(endingJobs(snapshot, endings)));
      target = drained instanceof Plan p ? HoldTarget.of(r.id(), p) : null;
    }
    return target == null
        ? null
        : target.reservation(target.heldIn(snapshot), target.shadow(snapshot, endings, now));
  }

  /**
   * Job {@code id} was placed, or no longer waits outside queues (deleted, queued). True when it
   * was the head holding capacity: the jobs waiting behind it may be placed now.
   */
  public boolean gone(String id) {
    waiting.remove(id);
    if (target != null && target.head().equals(id)) {
      target = null;
      return true;
    }
    return false;
  }

  /**
   * The pool as job {@code id} may use it: without what is held for the head, unless {@code id} is
   * the head or is sure to end ({@code runtimeMillis} at most) before the head could start.
   */
  public HeldView view(
      String id, OptionalLong runtimeMillis, PoolSnapshot snapshot, Endings endings, long now) {
    HoldTarget t = target;
    if (t == null || t.head().equals(id)) {
      return new HeldView(snapshot, null);
    }
    JobRequest head = waiting.head(now, holdAfterMillis);
    if (head == null || !head.id().equals(t.head())) {
      return new HeldView(snapshot, null); // another gang is the head now: it holds from its turn
    }
    List<Allocation> held = t.heldIn(snapshot);
    if (held.isEmpty()) {
      return new HeldView(snapshot, null);
    }
    long shadow = t.shadow(snapshot, endings, now);
    if (runtimeMillis.isPresent()
        && shadow != Long.MAX_VALUE
        && now + runtimeMillis.getAsLong() <= shadow) {
      return new HeldView(snapshot, null); // backfill: it ends before the head could start
    }
    return new HeldView(snapshot.with(held), t.reservation(held, shadow));
  }

  /** The head's id, if a head holds capacity. */
  public String head() {
    return target == null ? null : target.head();
  }

  private static Set<String> endingJobs(PoolSnapshot snapshot, Endings endings) {
    Set<String> ids = new HashSet<>();
    for (Allocation a : snapshot.allocations()) {
      if (endings.ends(a.jobId())) {
        ids.add(a.jobId());
      }
    }
    return ids;
  }
}
