package io.gpupool.operator.pool;

import io.gpupool.api.v1alpha1.PodTemplate;
import io.gpupool.operator.allocation.AllocationLedger;
import io.gpupool.operator.allocation.PodTracker;
import io.gpupool.operator.billing.ProviderStakes;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.trust.TrustLedger;
import io.gpupool.scheduler.hold.GangHold;
import io.gpupool.scheduler.model.PoolSnapshot;
import io.gpupool.scheduler.plan.Scheduler;
import io.gpupool.scheduler.plan.Unplaceable;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * What both planners stand on: the live pool (nodes, providers, pods holding GPUs), the allocation
 * ledger whose lock makes each decision and its reservation atomic, the scheduler and its latency
 * metric. One decide-and-reserve block for both job kinds.
 */
@ApplicationScoped
public class PlanningContext {
  private final NodeInventory inventory;
  private final ProviderDirectory providers;
  private final AllocationLedger ledger;
  private final PodTracker pods;
  private final JobMetrics metrics;
  private final Scheduler scheduler;
  private final HeadReservations reservations;

  /**
   * The pool view kept between placements, rebuilt when a node, provider, verdict or stake moves.
   */
  private final KeptPoolViews views;

  public PlanningContext(
      NodeInventory inventory,
      ProviderDirectory providers,
      AllocationLedger ledger,
      PodTracker pods,
      JobMetrics metrics,
      Scheduler scheduler,
      GangHold gangHold,
      TrustLedger trust,
      ProviderStakes stakes) {
    this.inventory = inventory;
    this.providers = providers;
    this.ledger = ledger;
    this.pods = pods;
    this.metrics = metrics;
    this.scheduler = scheduler;
    this.reservations = new HeadReservations(gangHold, Clock.systemUTC());
    AtomicLong stakeReadings = new AtomicLong();
    stakes.onChange(provider -> stakeReadings.incrementAndGet());
    this.views =
        new KeptPoolViews(
            new PoolSources(
                inventory,
                providers::all,
                providers::price,
                providers::reliability,
                trust,
                stakes::excludedNodes,
                stakeReadings::get));
  }

  /** False until the pool and the pods that already hold GPUs have been read. */
  public boolean ready() {
    return inventory.synced() && providers.synced() && pods.ready();
  }

  /** The scheduler's view of the pool now; {@code sharing}: shared GPUs count as capacity. */
  PoolView view(boolean sharing) {
    return views.view(sharing, null);
  }

  /** As {@link #view(boolean)}, with only the nodes a job's pod template admits (null: all). */
  PoolView view(boolean sharing, PodTemplate template) {
    return views.view(sharing, template);
  }

  /**
   * Runs {@code decision} under the ledger's lock (so concurrent reconciles never hand out the same
   * GPU), timed as the kind's scheduling latency when {@code timed}.
   */
  <T> T decide(String kind, boolean timed, Supplier<T> decision, Predicate<T> placed) {
    T result =
        timed
            ? metrics.schedulingLatency(kind, () -> ledger.decide(decision), placed)
            : ledger.decide(decision);
    announceLiftedHold();
    return result;
  }

  /** The head reservation for jobs outside GpuQueues; use inside {@link #decide} only. */
  HeadReservations reservations() {
    return reservations;
  }

  /** A head's hold ended in the last decision: the jobs it held back may be placed now. */
  private void announceLiftedHold() {
    if (reservations.takeLifted()) {
      ledger.heldCapacityFreed();
    }
  }

  /**
   * {@code view}'s snapshot with every holding in the ledger, but for the holders in {@code
   * replaced}, which hold what is given there instead (an empty map: nothing). Inside {@link
   * #decide} only; costs what changed since the view's last snapshot, not every holding.
   */
  PoolSnapshot snapshot(PoolView view, Map<String, Map<String, Integer>> replaced) {
    return view.snapshot(ledger.byNode(), replaced);
  }

  /** The holdings of holders whose key starts with {@code prefix}; inside {@link #decide} only. */
  Map<String, Map<String, Integer>> holdingsStartingWith(String prefix) {
    return ledger.byNode().startingWith(prefix);
  }

  void hold(String holder, Map<String, Integer> slots) {
    ledger.hold(holder, slots);
  }

  boolean cover(String holder, Map<String, Integer> slots) {
    return ledger.cover(holder, slots);
  }

  boolean holds(String holder) {
    return ledger.holds(holder);
  }

  void release(String holder) {
    ledger.release(holder);
  }

  /** When {@code holder} is released, {@code successor} holds its slots; inside {@link #decide}. */
  void passOnRelease(String holder, String successor) {
    ledger.passOnRelease(holder, successor);
  }

  /** {@code holder} holds nothing and no longer waits to be placed (finished, suspended, gone). */
  void left(String holder) {
    ledger.decide(
        () -> {
          reservations.left(holder);
          return null;
        });
    ledger.forgetSuccessor(holder);
    ledger.release(holder);
    announceLiftedHold();
  }

  Scheduler scheduler() {
    return scheduler;
  }

  NodeInventory inventory() {
    return inventory;
  }

  /** The scheduler's reason, its details, and the nodes left out for want of a price. */
  static String reason(Unplaceable u, PoolView view) {
    StringBuilder reason = new StringBuilder(u.reason());
    if (!u.details().isEmpty()) {
      reason.append(" (").append(String.join("; ", u.details())).append(')');
    }
    if (!view.notOffered().isEmpty()) {
      reason
          .append("; not offered: ")
          .append(view.notOffered().size())
          .append(" node(s) without a provider price");
    }
    return reason.toString();
  }
}
