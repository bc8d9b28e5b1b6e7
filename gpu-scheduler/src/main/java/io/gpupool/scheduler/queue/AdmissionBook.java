package io.gpupool.scheduler.queue;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.PriorityQueue;
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
  private final Map<String, Claim> claims = new HashMap<>();
  private final Map<String, Integer> evictions = new HashMap<>();
  private final Map<String, Long> barredUntil = new HashMap<>();
  private final Map<String, List<QueueState>> cohorts = new HashMap<>();
  private final Map<QueueState, Map<String, List<Hold>>> holds = new HashMap<>();
  private final int lookahead;
  private Set<String> blockedLastCycle = new HashSet<>();

  /** The pool's node shapes; null while unknown (then quota alone decides). */
  private NodeShapes shapes;

  private boolean cohortsStale = true;

  /** A preemptor waiting for its victims to leave; their GPUs are its first. */
  private record Claim(String flavor, Set<String> victims) {}

  /** Capacity kept for a blocked head until {@code shadow}, when it expects to start. */
  private record Hold(int gpus, long shadow) {}

  /** GPUs a queue counts as held in a flavor, under some hypothesis. */
  private interface UsageView {
    long usage(QueueState queue, String flavor);
  }

  /** Per queue and cycle: where the walk through its pending workloads stands. */
  private static final class Cursor {
    final QueueState queue;
    final Iterator<Workload> it;
    double share;
    boolean blocked;
    int examined;

    /**
     * Workloads of this queue that did not fit this cycle, per accepted-products set, as (GPUs,
     * end) pairs. Within a cycle the room a queue sees only shrinks, so a later workload asking at
     * least as many GPUs of the same products, for at least as long, cannot fit either.
     */
    final Map<Set<String>, List<long[]>> misses = new HashMap<>();

    boolean knownMiss(Workload w, long endsBy) {
      for (long[] miss : misses.getOrDefault(w.allowedProducts(), List.of())) {
        if (miss[0] <= w.gpus() && miss[1] <= endsBy) {
          return true;
        }
      }
      return false;
    }

    void miss(Workload w, long endsBy) {
      List<long[]> list = misses.computeIfAbsent(w.allowedProducts(), k -> new ArrayList<>());
      list.removeIf(m -> m[0] >= w.gpus() && m[1] >= endsBy);
      list.add(new long[] {w.gpus(), endsBy});
    }

    Cursor(QueueState queue, double share) {
      this.queue = queue;
      this.it = queue.pending.iterator();
      this.share = share;
    }
  }

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
    cohortsStale = true;
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
      cohortsStale = true;
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

  /** The workload is gone (finished, failed, deleted, suspended): its quota is free. */
  public void finish(String id) {
    Workload pending = pendingById.remove(id);
    if (pending != null) {
      queue(pending.queue()).removePending(pending);
    }
    AdmittedWorkload a = admittedById.remove(id);
    if (a != null) {
      queue(a.workload().queue()).release(a);
      victimLeft(a);
    }
    claims.remove(id);
    evictions.remove(id);
    barredUntil.remove(id);
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
    victimLeft(a);
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
    refreshCohorts();
    return feasibleFlavors(q, w).isEmpty() ? Optional.of(whyNever(q, w)) : Optional.empty();
  }

  /**
   * Until when an evicted workload may not borrow cohort quota (see {@link
   * #BORROW_BACKOFF_MILLIS}); empty when it was evicted at most once since it was offered, or is
   * gone.
   */
  public OptionalLong borrowingBarredUntil(String id) {
    Long until = barredUntil.get(id);
    return until == null ? OptionalLong.empty() : OptionalLong.of(until);
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
    for (QueueState q : queues.values()) {
      int position = 0;
      for (Workload w : q.pending) {
        sink.position(w.id(), q.name, ++position);
      }
    }
  }

  /** Status figures of every known queue, defined or only named by workloads. */
  public List<QueueUsage> usage() {
    refreshCohorts();
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
          new QueueUsage(q.name, q.pending.size(), q.admittedCount(), inUse, borrowed, share(q)));
    }
    return out;
  }

  /** Decides admissions and evictions at {@code now} (milliseconds, the clock of arrivals). */
  public CycleResult cycle(long now) {
    refreshCohorts();
    holds.clear();
    List<Admission> admitted = new ArrayList<>();
    List<Preemption> preempted = new ArrayList<>();
    Map<String, String> waiting = new LinkedHashMap<>();
    Map<String, String> inadmissible = new LinkedHashMap<>();
    admitClaims(now, admitted);

    // Equal shares: a queue whose head waited last cycle goes first, so that what frees up is
    // held for it rather than handed back to a peer at the same share again and again.
    Set<String> waitedBefore = blockedLastCycle;
    blockedLastCycle = new HashSet<>();
    PriorityQueue<Cursor> heap =
        new PriorityQueue<>(
            Comparator.<Cursor>comparingDouble(c -> c.share)
                .thenComparing(c -> !waitedBefore.contains(c.queue.name))
                .thenComparing(c -> c.queue.name));
    for (QueueState q : queues.values()) {
      if (q.pending.isEmpty()) {
        continue;
      }
      if (q.definition == null) {
        for (Workload w : q.pending) {
          inadmissible.put(w.id(), "GpuQueue " + q.name + " does not exist");
        }
        continue;
      }
      heap.add(new Cursor(q, share(q)));
    }
    int examined = 0;
    while (!heap.isEmpty()) {
      Cursor c = heap.poll();
      if (!c.it.hasNext() || c.examined >= lookahead) {
        continue;
      }
      if (c.blocked && c.queue.smallestPending() > maxAvailable(c.queue)) {
        continue; // nothing left in this queue can fit anywhere
      }
      Workload w = c.it.next();
      c.examined++;
      examined++;
      long endsBy = w.bounded() ? now + w.expectedRuntimeMillis() : Long.MAX_VALUE;
      if (c.blocked && c.knownMiss(w, endsBy)) {
        heap.add(c);
        continue;
      }
      List<Quota> flavors = feasibleFlavors(c.queue, w);
      if (flavors.isEmpty()) {
        inadmissible.put(w.id(), whyNever(c.queue, w));
        heap.add(c);
        continue;
      }
      if (shapes != null) {
        List<Quota> placeable = placeable(w, flavors);
        if (placeable.isEmpty()) {
          // Set aside, holding nothing: quota it took would stay unused until the pool changes.
          waiting.put(w.id(), noNodeShape(w, flavors));
          heap.add(c);
          continue;
        }
        flavors = placeable;
      }
      long barred = barredUntil.getOrDefault(w.id(), 0L);
      boolean mayBorrow = barred <= now;
      Quota fit =
          firstFitting(c.queue, w, mayBorrow ? flavors : withinNominal(c.queue, w, flavors), now);
      if (fit != null) {
        c.it.remove();
        c.queue.forgetPendingSize(w);
        admitted.add(admit(c.queue, w, fit, now));
        c.share = share(c.queue);
        heap.add(c);
        continue;
      }
      if (!mayBorrow) {
        // Set aside, not the head: what its queue may borrow goes to the workloads behind it.
        waiting.put(w.id(), barredReason(w, barred));
        heap.add(c);
        continue;
      }
      c.miss(w, endsBy);
      if (!c.blocked) {
        c.blocked = true;
        blockedLastCycle.add(c.queue.name);
        waiting.put(w.id(), blockHead(c.queue, w, flavors, now, preempted));
      }
      if (c.queue.definition.strategy() == QueueingStrategy.BEST_EFFORT_FIFO) {
        heap.add(c);
      }
    }
    return new CycleResult(admitted, preempted, waiting, inadmissible, examined);
  }

  // --- capacity

  /** GPUs {@code q} could take in {@code flavor} now, given what {@code view} says is held. */
  private long available(QueueState q, String flavor, UsageView view) {
    Quota quota = q.quota(flavor);
    if (quota == null) {
      return 0;
    }
    long used = view.usage(q, flavor);
    String cohort = q.definition.cohort();
    if (cohort == null) {
      return Math.max(0, quota.nominal() - used);
    }
    long pool = 0;
    long poolUsed = 0;
    for (QueueState m : cohorts.get(cohort)) {
      Quota mq = m.quota(flavor);
      if (mq == null) {
        continue;
      }
      pool += mq.lendable();
      poolUsed += Math.max(0, view.usage(m, flavor) - mq.guaranteed());
    }
    long own = Math.max(0, quota.guaranteed() - used);
    long headroom = quota.maxUsage() == Long.MAX_VALUE ? Long.MAX_VALUE : quota.maxUsage() - used;
    return Math.max(0, Math.min(headroom, own + Math.max(0, pool - poolUsed)));
  }

  /** The most {@code q} could ever hold of {@code quota}'s flavor, everyone else idle. */
  private long ceiling(QueueState q, Quota quota) {
    String cohort = q.definition.cohort();
    if (cohort == null) {
      return quota.nominal();
    }
    long pool = 0;
    for (QueueState m : cohorts.get(cohort)) {
      Quota mq = m.quota(quota.flavor());
      pool += mq == null ? 0 : mq.lendable();
    }
    return Math.min(quota.maxUsage(), quota.guaranteed() + pool);
  }

  private long maxAvailable(QueueState q) {
    long best = 0;
    for (Quota quota : q.definition.quotas()) {
      best = Math.max(best, available(q, quota.flavor(), QueueState::usage));
    }
    return best;
  }

  /**
   * Usage as candidate {@code w} of queue {@code p} sees it: admitted GPUs plus the holds it must
   * respect. A bounded workload ending before a hold's head could start ignores that hold; one
   * within its own queue's nominal quota ignores the holds of other queues.
   */
  private UsageView viewFor(Workload w, QueueState p, String flavor, long now) {
    if (holds.isEmpty()) {
      return QueueState::usage;
    }
    boolean withinNominal = p.usage(flavor) + w.gpus() <= p.nominal(flavor);
    long endsBy = w.bounded() ? now + w.expectedRuntimeMillis() : Long.MAX_VALUE;
    return (r, f) -> {
      long used = r.usage(f);
      if (withinNominal && r != p) {
        return used;
      }
      Map<String, List<Hold>> byFlavor = holds.get(r);
      if (byFlavor != null) {
        for (Hold h : byFlavor.getOrDefault(f, List.of())) {
          boolean endsFirst = w.bounded() && endsBy <= h.shadow();
          if (!endsFirst) {
            used += h.gpus();
          }
        }
      }
      return used;
    };
  }

  private List<Quota> feasibleFlavors(QueueState q, Workload w) {
    List<Quota> out = new ArrayList<>(2);
    for (Quota quota : q.definition.quotas()) {
      if (quota.admits(w.allowedProducts()) && ceiling(q, quota) >= w.gpus()) {
        out.add(quota);
      }
    }
    return out;
  }

  private String whyNever(QueueState q, Workload w) {
    long most = 0;
    boolean anyProduct = false;
    for (Quota quota : q.definition.quotas()) {
      if (quota.admits(w.allowedProducts())) {
        anyProduct = true;
        most = Math.max(most, ceiling(q, quota));
      }
    }
    if (!anyProduct) {
      return "GpuQueue "
          + q.name
          + " has no quota for GPU products "
          + new java.util.TreeSet<>(w.allowedProducts());
    }
    return "needs "
        + w.gpus()
        + " GPUs but GpuQueue "
        + q.name
        + " can never hold more than "
        + most
        + " of the products it accepts";
  }

  /** The flavors whose nodes could hold all of {@code w}'s workers at once. */
  private List<Quota> placeable(Workload w, List<Quota> flavors) {
    List<Quota> out = new ArrayList<>(flavors.size());
    for (Quota quota : flavors) {
      if (shapes.workersFit(productsOf(quota, w), w.gpusPerWorker()) >= w.workers()) {
        out.add(quota);
      }
    }
    return out;
  }

  private static Set<String> productsOf(Quota quota, Workload w) {
    if (w.allowedProducts().isEmpty()) {
      return quota.products();
    }
    Set<String> both = new HashSet<>(quota.products());
    both.retainAll(w.allowedProducts());
    return both;
  }

  private String noNodeShape(Workload w, List<Quota> flavors) {
    Quota first = flavors.get(0);
    Set<String> products = productsOf(first, w);
    long fit = shapes.workersFit(products, w.gpusPerWorker());
    int largest = shapes.largest(products);
    StringBuilder why = new StringBuilder(NO_NODE_SHAPE).append(": ");
    why.append(w.workers()).append(" worker(s) of ").append(w.gpusPerWorker());
    why.append(" GPU(s) on one node each, the pool's ").append(first.flavor());
    why.append(" nodes hold ").append(fit).append(" such worker(s)");
    why.append(largest == 0 ? " (there are none)" : " (largest node: " + largest + " GPUs)");
    if (flavors.size() > 1) {
      why.append(", and no other flavor of GpuQueue ").append(w.queue()).append(" fits either");
    }
    return why.append("; it waits without holding quota until the pool changes").toString();
  }

  /** The flavors where {@code w} would stay within its queue's nominal quota. */
  private static List<Quota> withinNominal(QueueState q, Workload w, List<Quota> flavors) {
    List<Quota> out = new ArrayList<>(flavors.size());
    for (Quota quota : flavors) {
      if (q.usage(quota.flavor()) + w.gpus() <= quota.nominal()) {
        out.add(quota);
      }
    }
    return out;
  }

  private String barredReason(Workload w, long barred) {
    int times = evictions.getOrDefault(w.id(), 0);
    return "evicted "
        + times
        + (times == 1 ? " time" : " times")
        + ": may borrow again from "
        + java.time.Instant.ofEpochMilli(barred)
        + "; admitted at once within GpuQueue "
        + w.queue()
        + "'s nominal quota";
  }

  private static long backoff(int evictions) {
    if (evictions < 2) {
      return 0;
    }
    int doublings = Math.min(evictions - 2, 20);
    return Math.min(MAX_BORROW_BACKOFF_MILLIS, BORROW_BACKOFF_MILLIS << doublings);
  }

  private Quota firstFitting(QueueState q, Workload w, List<Quota> flavors, long now) {
    for (Quota quota : flavors) {
      if (available(q, quota.flavor(), viewFor(w, q, quota.flavor(), now)) >= w.gpus()) {
        return quota;
      }
    }
    return null;
  }

  private Admission admit(QueueState q, Workload w, Quota quota, long now) {
    pendingById.remove(w.id());
    claims.remove(w.id());
    AdmittedWorkload a = new AdmittedWorkload(w, quota.flavor(), now);
    a.evictedBefore(evictions.getOrDefault(w.id(), 0));
    admittedById.put(w.id(), a);
    q.admit(a);
    return new Admission(w.id(), q.name, quota.flavor(), quota.products());
  }

  /** Preemptors whose victims have all left take the freed GPUs before anyone else. */
  private void admitClaims(long now, List<Admission> admitted) {
    List<String> ready = new ArrayList<>();
    claims.forEach(
        (id, claim) -> {
          if (claim.victims().isEmpty()) {
            ready.add(id);
          }
        });
    ready.sort(Comparator.naturalOrder());
    for (String id : ready) {
      Claim claim = claims.remove(id);
      Workload w = pendingById.get(id);
      if (w == null) {
        continue;
      }
      QueueState q = queue(w.queue());
      Quota quota = q.quota(claim.flavor());
      if (quota != null && available(q, quota.flavor(), QueueState::usage) >= w.gpus()) {
        q.removePending(w);
        admitted.add(admit(q, w, quota, now));
      }
    }
  }

  // --- a blocked head

  private String blockHead(
      QueueState q, Workload w, List<Quota> flavors, long now, List<Preemption> preempted) {
    Claim claim = claims.get(w.id());
    if (claim != null) {
      hold(q, w, claim.flavor(), now);
      return "waiting for "
          + claim.victims().size()
          + " evicted workload(s) to leave "
          + claim.flavor()
          + " GPUs";
    }
    for (Quota quota : flavors) {
      List<AdmittedWorkload> victims = victims(q, w, quota.flavor(), now);
      if (victims.isEmpty()) {
        continue;
      }
      Set<String> ids = new HashSet<>();
      for (AdmittedWorkload v : victims) {
        v.evict(w.id());
        ids.add(v.workload().id());
        int times = evictions.merge(v.workload().id(), 1, Integer::sum);
        long wait = backoff(times);
        if (wait > 0) {
          barredUntil.put(v.workload().id(), now + wait);
        }
        String victimQueue = v.workload().queue();
        preempted.add(
            new Preemption(
                v.workload().id(),
                victimQueue,
                w.id(),
                quota.flavor(),
                victimQueue.equals(q.name)
                    ? Preemption.Reason.IN_QUEUE_PRIORITY
                    : Preemption.Reason.COHORT_RECLAIM));
      }
      claims.put(w.id(), new Claim(quota.flavor(), ids));
      hold(q, w, quota.flavor(), now);
      return "preempting " + victims.size() + " workload(s) for " + quota.flavor() + " GPUs";
    }
    String flavor = flavors.get(0).flavor();
    long free = hold(q, w, flavor, now);
    return "needs "
        + w.gpus()
        + " "
        + flavor
        + " GPUs, "
        + free
        + " free to GpuQueue "
        + q.name
        + "; they are held for it";
  }

  /** Holds what is free to head {@code w} now, until it could start; returns that amount. */
  private long hold(QueueState q, Workload w, String flavor, long now) {
    long free = Math.min(w.gpus(), available(q, flavor, viewFor(w, q, flavor, now)));
    long shadow = shadowTime(q, flavor, w.gpus() - free, now);
    holds
        .computeIfAbsent(q, k -> new HashMap<>())
        .computeIfAbsent(flavor, k -> new ArrayList<>())
        .add(new Hold((int) free, shadow));
    return free;
  }

  /**
   * Earliest instant at which admitted workloads of the queue (and its cohort) that are sure to
   * have ended free {@code missing} more GPUs; {@code Long.MAX_VALUE} when unknown.
   */
  private long shadowTime(QueueState q, String flavor, long missing, long now) {
    if (missing <= 0) {
      return now;
    }
    List<AdmittedWorkload> ending = new ArrayList<>();
    for (QueueState m : scope(q)) {
      for (AdmittedWorkload a : m.admitted.getOrDefault(flavor, Map.of()).values()) {
        if (a.evicting() || a.endBy() != Long.MAX_VALUE) {
          ending.add(a);
        }
      }
    }
    ending.sort(Comparator.comparingLong(a -> a.evicting() ? now : a.endBy()));
    long freed = 0;
    for (AdmittedWorkload a : ending) {
      freed += a.workload().gpus();
      if (freed >= missing) {
        return Math.max(now, a.evicting() ? now : a.endBy());
      }
    }
    return Long.MAX_VALUE;
  }

  private List<AdmittedWorkload> victims(QueueState q, Workload w, String flavor, long now) {
    List<AdmittedWorkload> candidates = new ArrayList<>();
    if (q.definition.withinQueue() == WithinQueuePreemption.LOWER_PRIORITY) {
      for (AdmittedWorkload a : q.admitted.getOrDefault(flavor, Map.of()).values()) {
        if (!a.evicting() && a.workload().priority() < w.priority()) {
          candidates.add(a);
        }
      }
    }
    CohortReclaim reclaim = q.definition.reclaim();
    if (q.definition.cohort() != null
        && reclaim != CohortReclaim.NEVER
        && q.usage(flavor) + w.gpus() <= q.nominal(flavor)) {
      for (QueueState m : cohorts.get(q.definition.cohort())) {
        if (m == q || m.usage(flavor) <= m.nominal(flavor)) {
          continue;
        }
        for (AdmittedWorkload a : m.admitted.getOrDefault(flavor, Map.of()).values()) {
          if (!a.evicting()
              && (reclaim == CohortReclaim.ANY || a.workload().priority() < w.priority())) {
            candidates.add(a);
          }
        }
      }
    }
    if (candidates.isEmpty()) {
      return List.of();
    }
    return VictimChooser.choose(
        candidates,
        w.gpus(),
        now,
        gone -> available(q, flavor, (r, f) -> r.usage(f) - gpusOf(gone, r.name, f)));
  }

  private static long gpusOf(Collection<AdmittedWorkload> gone, String queue, String flavor) {
    long n = 0;
    for (AdmittedWorkload a : gone) {
      if (a.flavor().equals(flavor) && a.workload().queue().equals(queue)) {
        n += a.workload().gpus();
      }
    }
    return n;
  }

  private void victimLeft(AdmittedWorkload a) {
    if (a.evicting()) {
      Claim claim = claims.get(a.evictedFor());
      if (claim != null) {
        claim.victims().remove(a.workload().id());
      }
    }
  }

  // --- fair share and cohorts

  /**
   * Dominant share: the largest fraction of its cohort's nominal GPUs of any flavor the queue
   * holds, divided by its weight (dominant-resource fairness over GPU products).
   */
  private double share(QueueState q) {
    if (q.definition == null) {
      return 0;
    }
    double dominant = 0;
    for (Quota quota : q.definition.quotas()) {
      long total = 0;
      for (QueueState m : scope(q)) {
        total += m.nominal(quota.flavor());
      }
      if (total > 0) {
        dominant = Math.max(dominant, (double) q.usage(quota.flavor()) / total);
      }
    }
    return dominant / q.definition.weight();
  }

  private List<QueueState> scope(QueueState q) {
    String cohort = q.definition == null ? null : q.definition.cohort();
    return cohort == null ? List.of(q) : cohorts.get(cohort);
  }

  private void refreshCohorts() {
    if (!cohortsStale) {
      return;
    }
    cohorts.clear();
    for (QueueState q : queues.values()) {
      if (q.definition != null && q.definition.cohort() != null) {
        cohorts.computeIfAbsent(q.definition.cohort(), k -> new ArrayList<>()).add(q);
      }
    }
    cohortsStale = false;
  }

  private QueueState queue(String name) {
    return queues.computeIfAbsent(name, QueueState::new);
  }
}
