package io.gpupool.scheduler.queue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * The admission state of a pool: queues, their pending workloads in order and what admitted
 * workloads hold. {@link #cycle} decides who is admitted and who is evicted; the caller carries the
 * decisions out and reports back ({@link #finish}, {@link #requeue}, {@link #checkpointed}).
 *
 * <p>Capacity: a queue may hold, per flavor, the part of its nominal quota it does not lend plus
 * whatever of the cohort's lendable pool is free, up to nominal + borrowing limit. A cycle visits
 * the queues in order of dominant share (lowest first, weighted), each queue's workloads in
 * priority then arrival order. The first workload of a queue that does not fit is its head: it
 * first tries to evict (lower priority in its queue, or borrowers when it is within its nominal
 * quota); otherwise the capacity free to it is held for it, and later workloads only use held GPUs
 * when they are sure to end before the head could start anyway (EASY backfill). Nominal quota is a
 * guarantee: a workload within its queue's nominal quota ignores holds of other queues. A workload
 * evicted more than once may not borrow for a while ({@link #BORROW_BACKOFF_MILLIS}): it is set
 * aside rather than made its queue's head.
 *
 * <p>The book keeps the state; a cycle's decisions are {@link AdmissionCycle}'s, what a queue may
 * take is {@link Capacity}'s, victims, claims and borrowing backoffs are {@link Evictions}'.
 *
 * <p>Not thread-safe: one caller at a time.
 */
public final class AdmissionBook {
  /**
   * A workload evicted a second time may not borrow cohort quota for this long after that eviction,
   * doubling with each further one (up to {@link #MAX_BORROW_BACKOFF_MILLIS}); within its queue's
   * nominal quota it is admitted as usual. Without it, a borrower re-admitted at once onto the GPUs
   * the last reclaim freed was, as the most recently admitted, the next reclaim's victim again:
   * evicted seven times in five minutes. The first eviction costs no backoff, so a victim resumes
   * on lent quota as soon as it is free again (Kueue backs off requeued workloads too).
   */
  public static final long BORROW_BACKOFF_MILLIS = 120_000;

  public static final long MAX_BORROW_BACKOFF_MILLIS = 30 * 60_000;

  /** How the reason of a workload no node shape of its flavors can hold begins. */
  public static final String NO_NODE_SHAPE = "no node shape can hold it";

  private final Map<String, QueueState> queues = new TreeMap<>();
  private final Map<String, Workload> pendingById = new HashMap<>();
  private final Map<String, AdmittedWorkload> admittedById = new HashMap<>();
  private final Capacity capacity = new Capacity(queues);
  private final Evictions evictions = new Evictions(capacity);
  private final int lookahead;
  private Set<String> blockedLastCycle = new HashSet<>();

  /** The pool's node shapes; null while unknown (then quota alone decides). */
  private NodeShapes shapes;

  /** Admissions so far: usage changed since a figure derived from it was computed. */
  private long admissions;

  /**
   * Why each pending workload a cycle found inadmissible can never be admitted, while no queue
   * definition changed since: later cycles skip it instead of deriving the same verdict again (with
   * 10,000 workloads waiting on closed quotas every cycle would otherwise rebuild them all).
   */
  private final Map<String, String> knownInadmissible = new HashMap<>();

  /** A book looking at no more than {@code lookahead} pending workloads per queue and cycle. */
  public AdmissionBook(int lookahead) {
    if (lookahead < 1) {
      throw new IllegalArgumentException("lookahead must be at least 1");
    }
    this.lookahead = lookahead;
  }

  public AdmissionBook() {
    this(4096);
  }

  /** Adds or replaces a queue; its workloads keep their places. */
  public void putQueue(QueueDefinition definition) {
    queue(definition.name()).definition = definition;
    definitionsChanged();
  }

  /**
   * Something a workload's admissibility depends on changed (a queue's definition): verdicts of
   * inadmissibility are derived again by the next cycle.
   */
  public void definitionsChanged() {
    capacity.definitionsChanged();
    knownInadmissible.clear();
  }

  /**
   * The pool's nodes as they are now: a gang whose workers no node shape of a flavor can hold is
   * not admitted on that flavor's quota (it waits, set aside, saying why). Null: unknown.
   */
  public void nodeShapes(NodeShapes shapes) {
    this.shapes = shapes;
  }

  /** Forgets a queue's definition; its pending workloads become inadmissible, admitted stay. */
  public void removeQueue(String name) {
    QueueState q = queues.get(name);
    if (q != null) {
      q.definition = null;
      definitionsChanged();
    }
  }

  public Optional<QueueDefinition> definition(String queue) {
    QueueState q = queues.get(queue);
    return q == null ? Optional.empty() : Optional.ofNullable(q.definition);
  }

  /**
   * Adds a pending workload or updates one still pending (priority, queue, demand may change).
   * Returns false when it is admitted already: admission is not revisited for spec changes.
   */
  public boolean offer(Workload w) {
    if (admittedById.containsKey(w.id())) {
      return false;
    }
    Workload old = pendingById.put(w.id(), w);
    knownInadmissible.remove(w.id());
    if (old != null) {
      queue(old.queue()).removePending(old);
    }
    queue(w.queue()).addPending(w);
    return true;
  }

  /** Records a workload that already holds GPUs (found running after a restart), quota or not. */
  public void restoreAdmitted(Workload w, String flavor, long admittedAt) {
    finish(w.id());
    AdmittedWorkload a = new AdmittedWorkload(w, flavor, admittedAt);
    admittedById.put(w.id(), a);
    queue(w.queue()).admit(a);
  }

  /**
   * After a restart: the workload (restored or offered already) was evicted {@code times} times,
   * the last at {@code lastAt} (milliseconds; negative when unknown). Victim choice counts them,
   * and a workload waiting after its second eviction waits out the rest of its borrowing backoff
   * rather than borrowing at once and thrashing again.
   */
  public void restoreEvictions(String id, int times, long lastAt) {
    if (times <= 0) {
      return;
    }
    evictions.restore(id, times, lastAt);
    AdmittedWorkload a = admittedById.get(id);
    if (a != null) {
      a.evictedBefore(times);
    }
  }

  /**
   * After a restart: the admitted workload {@code victimId} was being evicted for {@code
   * preemptorId} when the operator stopped (its status says so). It is marked evicting again and
   * the preemptor's claim waits for it, as before the restart: no round evicts it twice or picks
   * other victims for the same preemptor, and its GPUs go to that preemptor once it has left.
   */
  public void restoreEviction(String victimId, String preemptorId) {
    AdmittedWorkload a = admittedById.get(victimId);
    if (a == null || a.evicting()) {
      return;
    }
    evictions.restoreInFlight(a, preemptorId, queue(a.workload().queue()));
  }

  /** The workload is gone (finished, failed, deleted, suspended): its quota is free. */
  public void finish(String id) {
    knownInadmissible.remove(id);
    Workload pending = pendingById.remove(id);
    if (pending != null) {
      queue(pending.queue()).removePending(pending);
    }
    AdmittedWorkload a = admittedById.remove(id);
    if (a != null) {
      queue(a.workload().queue()).release(a);
      evictions.left(a);
    }
    evictions.forget(id);
  }

  /**
   * An evicted (or otherwise stopped) admitted workload goes back to its queue, keeping its place.
   */
  public void requeue(String id) {
    AdmittedWorkload a = admittedById.remove(id);
    if (a == null) {
      return;
    }
    queue(a.workload().queue()).release(a);
    evictions.left(a);
    pendingById.put(id, a.workload());
    queue(a.workload().queue()).addPending(a.workload());
  }

  /** The workload wrote a checkpoint at {@code at}: evicting it now loses less. */
  public void checkpointed(String id, long at) {
    AdmittedWorkload a = admittedById.get(id);
    if (a != null) {
      a.checkpointed(at);
    }
  }

  public Optional<AdmittedWorkload> admitted(String id) {
    return Optional.ofNullable(admittedById.get(id));
  }

  /** The workload as last offered, while it is pending. */
  public Optional<Workload> pending(String id) {
    return Optional.ofNullable(pendingById.get(id));
  }

  /**
   * Why a pending workload can never be admitted by its queue as the queues are defined now; empty
   * when some quota could cover it (or it is not pending). A cycle only says so of the workloads it
   * looked at; this answers for one workload, after a queue changed.
   */
  public Optional<String> inadmissible(String id) {
    Workload w = pendingById.get(id);
    if (w == null) {
      return Optional.empty();
    }
    QueueState q = queue(w.queue());
    if (q.definition == null) {
      return Optional.of("GpuQueue " + q.name + " does not exist");
    }
    capacity.refreshCohorts();
    return capacity.feasibleFlavors(q, w).isEmpty()
        ? Optional.of(capacity.whyNever(q, w))
        : Optional.empty();
  }

  /**
   * Until when an evicted workload may not borrow cohort quota (see {@link
   * #BORROW_BACKOFF_MILLIS}); empty when it was evicted at most once since it was offered, or is
   * gone.
   */
  public OptionalLong borrowingBarredUntil(String id) {
    return evictions.borrowingBarredUntil(id);
  }

  public boolean isPending(String id) {
    return pendingById.containsKey(id);
  }

  public int pendingCount() {
    return pendingById.size();
  }

  public int admittedCount() {
    return admittedById.size();
  }

  /** Receives each pending workload's 1-based place in its queue. */
  @FunctionalInterface
  public interface PositionSink {
    void position(String workloadId, String queue, int position);
  }

  /** Every pending workload's place in its queue, in one pass. */
  public void positions(PositionSink sink) {
    positions(Integer.MAX_VALUE, sink);
  }

  /** The places of the first {@code limit} pending workloads of each queue. */
  public void positions(int limit, PositionSink sink) {
    for (QueueState q : queues.values()) {
      int position = 0;
      for (Workload w : q.pending) {
        if (position >= limit) {
          break;
        }
        sink.position(w.id(), q.name, ++position);
      }
    }
  }

  /**
   * A pending workload's 1-based place in its queue; 0 when it is not pending. Walks the workloads
   * ahead of it only (no map of every place is kept up to date).
   */
  public int position(String id) {
    Workload w = pendingById.get(id);
    if (w == null) {
      return 0;
    }
    return queue(w.queue()).pending.headSet(w, false).size() + 1;
  }

  /** Status figures of every known queue, defined or only named by workloads. */
  public List<QueueUsage> usage() {
    capacity.refreshCohorts();
    List<QueueUsage> out = new ArrayList<>();
    for (QueueState q : queues.values()) {
      Map<String, Integer> inUse = new TreeMap<>();
      Map<String, Integer> borrowed = new TreeMap<>();
      Set<String> flavors = new HashSet<>(q.admitted.keySet());
      if (q.definition != null) {
        q.definition.quotas().forEach(quota -> flavors.add(quota.flavor()));
      }
      for (String f : flavors) {
        inUse.put(f, q.usage(f));
        borrowed.put(f, Math.max(0, q.usage(f) - q.nominal(f)));
      }
      out.add(
          new QueueUsage(
              q.name, q.pending.size(), q.admittedCount(), inUse, borrowed, capacity.share(q)));
    }
    return out;
  }

  /** Decides admissions and evictions at {@code now} (milliseconds, the clock of arrivals). */
  public CycleResult cycle(long now) {
    AdmissionCycle cycle = new AdmissionCycle(this, capacity, evictions, now);
    CycleResult result = cycle.run(blockedLastCycle);
    blockedLastCycle = cycle.blocked();
    return result;
  }

  // --- for AdmissionCycle

  Collection<QueueState> queueStates() {
    return queues.values();
  }

  NodeShapes shapes() {
    return shapes;
  }

  int lookahead() {
    return lookahead;
  }

  long admissions() {
    return admissions;
  }

  boolean isKnownInadmissible(String id) {
    return knownInadmissible.containsKey(id);
  }

  void knownInadmissible(String id, String why) {
    knownInadmissible.put(id, why);
  }

  /** Admits pending {@code w} (already out of its queue's pending set) on {@code quota}. */
  Admission admit(QueueState q, Workload w, Quota quota, long now) {
    pendingById.remove(w.id());
    evictions.admitted(w.id());
    AdmittedWorkload a = new AdmittedWorkload(w, quota.flavor(), now);
    admissions++;
    a.evictedBefore(evictions.count(w.id()));
    admittedById.put(w.id(), a);
    q.admit(a);
    return new Admission(w.id(), q.name, quota.flavor(), quota.products());
  }

  QueueState queue(String name) {
    return queues.computeIfAbsent(name, QueueState::new);
  }
}
