package io.gpupool.operator.allocation;

import jakarta.inject.Singleton;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Which GPU slots each job holds on each node, in device-plugin units (what a pod requests as
 * {@code nvidia.com/gpu}). The operator writes a reservation here <em>before</em> it creates the
 * pods, under the same lock as the placement decision, so two jobs planned back to back never take
 * the same GPU even when the pod informer has not yet seen the first job's pods.
 *
 * <p>Slots held by pods gpupool did not create are counted too ({@link #observeForeign}), so the
 * pool is never over-committed against other GPU workloads on the same nodes. So are gpupool's own
 * live pods ({@link #observeOwn}): a job's holding on a node is the larger of its reservation and
 * what its live pods there request, so GPUs are never handed out again while a pod bound to them
 * still runs, whatever the reservation says (a new leader that rebuilt it, a gang whose old pods
 * are still being deleted).
 */
@Singleton
public class AllocationLedger {
  /** Key prefix of the holdings of pods gpupool did not create, in {@link #holdings()}. */
  public static final String FOREIGN_PREFIX = "foreign:";

  /**
   * Key prefix of a gpupool pod that is being deleted but has not stopped yet ({@link
   * #observeLeaving}), in {@link #holdings()}.
   */
  public static final String LEAVING_PREFIX = "leaving:";

  private final Map<String, Map<String, Integer>> byHolder = new HashMap<>();
  private final Map<String, Map<String, Integer>> foreignByNode = new HashMap<>();
  private final Map<String, OwnPod> ownPods = new HashMap<>();

  /**
   * The same live pods by job: a pod event looks at its own job's pods only, not at every holding
   * in the pool (at 10,000 jobs that copy, twice per pod event under this lock, held up placement).
   */
  private final Map<String, Map<String, OwnPod>> ownPodsByHolder = new HashMap<>();

  /** {@link #holdings()} kept change by change, for placements; see {@link #byNode}. */
  private final NodeHoldings byNode = new NodeHoldings();

  private final List<Runnable> releaseListeners = new CopyOnWriteArrayList<>();

  /**
   * Holders whose slots pass to another holder when they are released instead of going back to the
   * pool (holder to successor); see {@link #passOnRelease}.
   */
  private final Map<String, String> successors = new HashMap<>();

  /** A live (not yet ended) pod of a gpupool job, bound to a node. */
  private record OwnPod(String holder, String node, int slots) {}

  /** Slots in use on each node: every job's holding plus foreign pods. */
  public synchronized Map<String, Integer> usedByNode() {
    Map<String, Integer> used = new HashMap<>();
    holdings()
        .values()
        .forEach(slots -> slots.forEach((node, n) -> used.merge(node, n, Integer::sum)));
    return used;
  }

  /**
   * Every holding: each job's by node (the larger of its reservation and its live pods there), and
   * each foreign pod's slots under the key {@code foreign:<namespace>/<pod>}.
   */
  public synchronized Map<String, Map<String, Integer>> holdings() {
    Map<String, Map<String, Integer>> all = new HashMap<>();
    byHolder.forEach((holder, slots) -> all.put(holder, new HashMap<>(slots)));
    livePodSlots()
        .forEach(
            (holder, slots) ->
                slots.forEach(
                    (node, n) ->
                        all.computeIfAbsent(holder, h -> new HashMap<>())
                            .merge(node, n, Math::max)));
    foreignByNode.forEach((pod, slots) -> all.put(FOREIGN_PREFIX + pod, slots));
    return all;
  }

  /** What each job's live pods request, by node. */
  private Map<String, Map<String, Integer>> livePodSlots() {
    Map<String, Map<String, Integer>> live = new HashMap<>();
    ownPods
        .values()
        .forEach(
            p ->
                live.computeIfAbsent(p.holder(), h -> new HashMap<>())
                    .merge(p.node(), p.slots(), Integer::sum));
    return live;
  }

  /**
   * Records a live pod of job {@code holder} bound to {@code node} ({@code slots == 0} or a null
   * node forgets it: the pod ended or is gone). Tells waiting jobs when that frees slots the job's
   * reservation does not cover.
   */
  public void observeOwn(String podKey, String holder, String node, int slots) {
    boolean freed;
    synchronized (this) {
      OwnPod known = ownPods.get(podKey);
      // The pod may move between holders (its job, then its own key while it stops).
      String other = known == null || known.holder().equals(holder) ? null : known.holder();
      Map<String, Integer> before = holdingOf(holder, other);
      OwnPod previous = forgetOwn(podKey);
      if (slots > 0 && node != null) {
        OwnPod pod = new OwnPod(holder, node, slots);
        ownPods.put(podKey, pod);
        ownPodsByHolder.computeIfAbsent(holder, h -> new HashMap<>()).put(podKey, pod);
      }
      freed = previous != null && shrinks(before, holdingOf(holder, other));
      byNode.set(holder, holdingOf(holder));
      if (other != null) {
        byNode.set(other, holdingOf(other));
      }
    }
    if (freed) {
      fireRelease();
    }
  }

  /**
   * Records a pod of a gpupool job that is being deleted (it has a deletionTimestamp) and still
   * runs on {@code node}: its GPUs stay taken, as the kubelet's device plugin keeps them until its
   * containers have stopped, but under the pod's own key ({@link #LEAVING_PREFIX}) instead of its
   * job's. A job placed again after its pods were deleted (an eviction, its cost cap, a suspension)
   * is planned without what it holds itself, and its holding is the larger of its reservation and
   * its live pods, not their sum: counted under the job, the stopping pod's GPUs would be handed
   * out again while the kubelet still refuses a pod for them (UnexpectedAdmissionError). Forgotten
   * by {@link #observeOwn} with slots 0 when the pod object is gone.
   */
  public void observeLeaving(String podKey, String node, int slots) {
    observeOwn(podKey, LEAVING_PREFIX + podKey, node, slots);
  }

  /** What {@code holder} and {@code other} (null: none) hold together, by node. */
  private Map<String, Integer> holdingOf(String holder, String other) {
    Map<String, Integer> both = new HashMap<>(holdingOf(holder));
    if (other != null) {
      holdingOf(other).forEach((node, n) -> both.merge(node, n, Integer::sum));
    }
    return both;
  }

  private OwnPod forgetOwn(String podKey) {
    OwnPod previous = ownPods.remove(podKey);
    if (previous != null) {
      Map<String, OwnPod> pods = ownPodsByHolder.get(previous.holder());
      pods.remove(podKey);
      if (pods.isEmpty()) {
        ownPodsByHolder.remove(previous.holder());
      }
    }
    return previous;
  }

  /** What {@code holder} holds by node, as {@link #holdings()} counts it, from its own entries. */
  private Map<String, Integer> holdingOf(String holder) {
    Map<String, Integer> live = new HashMap<>();
    ownPodsByHolder
        .getOrDefault(holder, Map.of())
        .values()
        .forEach(p -> live.merge(p.node(), p.slots(), Integer::sum));
    Map<String, Integer> held = new HashMap<>(byHolder.getOrDefault(holder, Map.of()));
    live.forEach((node, n) -> held.merge(node, n, Math::max));
    return held;
  }

  /**
   * Every holding as {@link #holdings()} counts it, by node, kept as the ledger changes rather than
   * copied: read it only inside {@link #decide}, where nothing changes it.
   */
  public NodeHoldings byNode() {
    return byNode;
  }

  /** What {@code holder} holds, by node. */
  public synchronized Map<String, Integer> heldBy(String holder) {
    return Map.copyOf(byHolder.getOrDefault(holder, Map.of()));
  }

  public synchronized boolean holds(String holder) {
    return byHolder.containsKey(holder);
  }

  /**
   * Replaces what {@code holder} holds with {@code slotsByNode}. Callers decide placements and call
   * this inside one {@link #decide} block so the decision and the reservation are atomic.
   */
  public void hold(String holder, Map<String, Integer> slotsByNode) {
    boolean freed;
    synchronized (this) {
      Map<String, Integer> before = byHolder.get(holder);
      freed = before != null && shrinks(before, slotsByNode);
      if (slotsByNode.isEmpty()) {
        byHolder.remove(holder);
      } else {
        byHolder.put(holder, Map.copyOf(slotsByNode));
      }
      byNode.set(holder, holdingOf(holder));
    }
    if (freed) {
      fireRelease();
    }
  }

  /**
   * Makes {@code holder}'s reservation cover {@code slotsByNode} as well (the larger figure per
   * node); true when it had to grow. A job whose status says its gang sits on these GPUs claims
   * them again this way after a new leader rebuilt the ledger from what it could see.
   */
  public synchronized boolean cover(String holder, Map<String, Integer> slotsByNode) {
    Map<String, Integer> now = new HashMap<>(byHolder.getOrDefault(holder, Map.of()));
    boolean grew = false;
    for (var e : slotsByNode.entrySet()) {
      if (e.getValue() > now.getOrDefault(e.getKey(), 0)) {
        now.put(e.getKey(), e.getValue());
        grew = true;
      }
    }
    if (grew) {
      byHolder.put(holder, Map.copyOf(now));
      byNode.set(holder, holdingOf(holder));
    }
    return grew;
  }

  /**
   * Frees everything {@code holder} holds and tells waiting jobs capacity came back. When a
   * successor was named for it ({@link #passOnRelease}), the successor holds those slots instead.
   */
  public void release(String holder) {
    boolean freed;
    synchronized (this) {
      Map<String, Integer> slots = byHolder.remove(holder);
      freed = slots != null;
      byNode.set(holder, holdingOf(holder));
      String successor = successors.remove(holder);
      if (slots != null && successor != null) {
        Map<String, Integer> merged = new HashMap<>(byHolder.getOrDefault(successor, Map.of()));
        slots.forEach((node, n) -> merged.merge(node, n, Math::max));
        byHolder.put(successor, Map.copyOf(merged));
        byNode.set(successor, holdingOf(successor));
      }
    }
    if (freed) {
      fireRelease(); // the successor too is woken: it holds what it waited for
    }
  }

  /**
   * When {@code holder} is next released, {@code successor} holds what it held: the slots go to one
   * waiting job instead of to whichever job is placed first. For a job that waits for the
   * operator's own hardware challenge on the node it prefers, so that the end of the challenge does
   * not hand the node to another job a moment before the waiting one looks again. The successor's
   * next placement replaces what it was handed (or its release frees it). A later call for the same
   * holder names another successor.
   */
  public synchronized void passOnRelease(String holder, String successor) {
    successors.put(holder, successor);
  }

  /** {@code successor} waits no more (deleted): nothing is passed to it on a later release. */
  public synchronized void forgetSuccessor(String successor) {
    successors.values().removeIf(successor::equals);
  }

  /** Records slots taken by a pod gpupool does not manage ({@code slots == 0} forgets it). */
  public void observeForeign(String podKey, String node, int slots) {
    boolean freed;
    synchronized (this) {
      Map<String, Integer> previous = foreignByNode.remove(podKey);
      if (slots > 0 && node != null) {
        foreignByNode.put(podKey, Map.of(node, slots));
      }
      byNode.set(FOREIGN_PREFIX + podKey, foreignByNode.getOrDefault(podKey, Map.of()));
      freed = previous != null && (slots == 0 || node == null);
    }
    if (freed) {
      fireRelease();
    }
  }

  /**
   * Capacity held back for one job (a head reservation) became free to every job: waiting jobs are
   * told as on a release. Call outside {@link #decide}.
   */
  public void heldCapacityFreed() {
    fireRelease();
  }

  /** Runs {@code decision} while no other placement can change the ledger. */
  public synchronized <T> T decide(Supplier<T> decision) {
    return decision.get();
  }

  /** Called (outside the lock) whenever slots are freed. */
  public void onRelease(Runnable listener) {
    releaseListeners.add(listener);
  }

  private static boolean shrinks(Map<String, Integer> before, Map<String, Integer> after) {
    for (var e : before.entrySet()) {
      if (after.getOrDefault(e.getKey(), 0) < e.getValue()) {
        return true;
      }
    }
    return false;
  }

  private void fireRelease() {
    releaseListeners.forEach(Runnable::run);
  }
}
