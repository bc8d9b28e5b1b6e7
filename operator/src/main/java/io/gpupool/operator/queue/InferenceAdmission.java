package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.scheduler.queue.AdmittedWorkload;
import io.gpupool.scheduler.queue.Workload;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * InferenceJobs through their queues ({@link InferenceWorkloads}): the minimum replicas are
 * admitted before anything is placed; each replica the autoscaler adds above it waits in the queue
 * like any workload, in priority then arrival order, and is placed only once admitted; a scale-down
 * gives its replicas' quota back. Preemption takes replicas above the minimum one at a time (they
 * lose no work), the minimum only as a whole. Every call holds the {@link AdmissionController}'s
 * lock, so that a job's workloads are offered and decided in one round.
 */
@ApplicationScoped
public class InferenceAdmission {
  private final AdmissionController admission;
  private final Clock clock;

  /** When the autoscaler first asked for each replica slot: its arrival in the queue. */
  private final Map<String, Long> asked = new ConcurrentHashMap<>();

  @Inject
  public InferenceAdmission(AdmissionController admission) {
    this(admission, Clock.systemUTC());
  }

  InferenceAdmission(AdmissionController admission, Clock clock) {
    this.admission = admission;
    this.clock = clock;
  }

  /**
   * What the job's queue lets it run.
   *
   * @param minimum the verdict on its minimum replicas
   * @param allowed replica groups it may run now ({@code desired} when no queue applies)
   * @param queued replicas above the allowed count waiting in the queue
   * @param position place of the first of them in the queue (0: none)
   * @param evicted ids of replicas just preempted: remove as many groups, then {@link
   *     #replicasEvicted}
   * @param evictedFor who took the evicted replicas' quota
   * @param slots each wanted replica above the minimum as its queue sees it, for status
   */
  public record Replicas(
      Verdict minimum,
      int allowed,
      int queued,
      int position,
      List<String> evicted,
      String evictedFor,
      List<Slot> slots) {

    public boolean notQueued() {
      return minimum instanceof Verdict.NotQueued;
    }
  }

  /**
   * A replica above the minimum, kept in the job's status so that a restarted operator restores it
   * ({@code StoredReplicas}).
   *
   * @param slot its slot (from the minimum's count up)
   * @param admitted it holds quota (false: it waits in the queue)
   * @param since its arrival in the queue
   * @param evicted it has just been preempted
   */
  public record Slot(int slot, boolean admitted, Instant since, boolean evicted) {}

  /**
   * Offers the job's minimum and the replicas it wants above it, withdraws those it no longer
   * wants, and says how many it may run.
   *
   * @param desired the autoscaler's count, within the job's bounds
   * @param holding the job has replica groups now
   * @param running how many (after a restart these are counted against the queue as they are)
   * @param flavorHint the flavor its status records, or null
   */
  public Replicas replicas(
      InferenceJob job, int desired, boolean holding, int running, String flavorHint) {
    synchronized (admission) {
      InferenceJobSpec spec = job.getSpec();
      int floor = InferenceWorkloads.floor(spec);
      Applicant min = InferenceWorkloads.minimum(job);
      boolean known =
          admission.admittedOf(min.id()).isPresent() || admission.pendingOf(min.id()).isPresent();
      Verdict verdict = holding ? admission.holding(min, flavorHint) : admission.decide(min);
      if (verdict instanceof Verdict.NotQueued) {
        withdraw(job, floor);
        return new Replicas(verdict, desired, 0, 0, List.of(), null, List.of());
      }
      if (!(verdict instanceof Verdict.Admitted a)) {
        withdraw(job, floor);
        return new Replicas(verdict, 0, 0, 0, List.of(), null, List.of());
      }
      Set<String> products = flavorProducts(spec, a);
      long now = clock.millis();
      if (holding && !known) {
        // Found running (a restart): the replicas it runs above its minimum hold quota too.
        for (int k = floor; k < Math.min(running, InferenceWorkloads.MAX_REPLICAS); k++) {
          admission.restore(
              InferenceWorkloads.replica(job, k, now, products), a.queue(), a.flavor(), now);
        }
      }
      List<String> unwanted = new ArrayList<>();
      for (int k = floor; k < InferenceWorkloads.MAX_REPLICAS; k++) {
        String id = InferenceWorkloads.replicaId(job, k);
        if (k < desired) {
          if (admission.admittedOf(id).isEmpty()) {
            // Waiting already (restored after a restart, or evicted): it keeps its place.
            long arrival =
                asked.computeIfAbsent(
                    id, x -> admission.pendingOf(id).map(Workload::arrival).orElse(now));
            admission.offer(
                InferenceWorkloads.replica(job, k, arrival, products), a.queue(), a.priority());
          }
        } else {
          asked.remove(id);
          if (admission.admittedOf(id).isPresent() || admission.pendingOf(id).isPresent()) {
            unwanted.add(id); // scaled down: its quota goes back
          }
        }
      }
      admission.ended(unwanted);
      admission.settle();
      Verdict after = admission.verdictOf(min.id(), a.queue(), a.priority());
      if (!(after instanceof Verdict.Admitted)) {
        return new Replicas(after, 0, 0, 0, List.of(), null, List.of());
      }
      return count(job, floor, desired, after, Instant.ofEpochMilli(now));
    }
  }

  private Replicas count(InferenceJob job, int floor, int desired, Verdict minimum, Instant now) {
    int allowed = floor;
    int queued = 0;
    int position = 0;
    List<String> evicted = new ArrayList<>();
    String evictedFor = null;
    for (int k = floor; k < desired; k++) {
      String id = InferenceWorkloads.replicaId(job, k);
      Optional<AdmittedWorkload> held = admission.admittedOf(id);
      if (held.isPresent() && held.get().evicting()) {
        evicted.add(id);
        evictedFor = held.get().evictedFor();
      } else if (held.isPresent()) {
        allowed++;
        admission.checkpointed(id, now); // a replica loses no work: the first victim of its level
      } else if (admission.pendingOf(id).isPresent()) {
        queued++;
        int p = admission.positionOf(id);
        position = position == 0 || (p > 0 && p < position) ? p : position;
      }
    }
    return new Replicas(
        minimum, allowed, queued, position, evicted, evictedFor, slots(job, floor, desired));
  }

  /**
   * The job's wanted replicas above its minimum as its queue holds them now: what its status
   * records for a restart. One being evicted is recorded as waiting, as it will be once removed,
   * but not marked {@code evicted}: {@link #replicas} hands each eviction out, and it is counted
   * there, once.
   */
  public List<Slot> slots(InferenceJob job, int desired) {
    synchronized (admission) {
      return slots(job, InferenceWorkloads.floor(job.getSpec()), desired).stream()
          .map(s -> new Slot(s.slot(), s.admitted(), s.since(), false))
          .toList();
    }
  }

  private List<Slot> slots(InferenceJob job, int floor, int desired) {
    List<Slot> slots = new ArrayList<>();
    for (int k = floor; k < Math.min(desired, InferenceWorkloads.MAX_REPLICAS); k++) {
      String id = InferenceWorkloads.replicaId(job, k);
      Optional<AdmittedWorkload> held = admission.admittedOf(id);
      Optional<Workload> waiting = held.isPresent() ? Optional.empty() : admission.pendingOf(id);
      if (held.isPresent()) {
        boolean evicting = held.get().evicting();
        slots.add(new Slot(k, !evicting, arrival(held.get().workload()), evicting));
      } else if (waiting.isPresent()) {
        slots.add(new Slot(k, false, arrival(waiting.get()), false));
      }
    }
    return slots;
  }

  private static Instant arrival(Workload w) {
    return Instant.ofEpochMilli(w.arrival());
  }

  /**
   * When the job's minimum last gave its quota back unplaced: it waits at the back of its level
   * from then; empty when it has not.
   */
  public Optional<Instant> queuedSince(InferenceJob job) {
    return admission.queuedSince(InferenceWorkloads.id(job));
  }

  /** The replicas just preempted have been removed: they wait in their queue again. */
  public void replicasEvicted(List<String> ids) {
    synchronized (admission) {
      ids.forEach(admission::evictionDone);
    }
  }

  /** The minimum was preempted and every replica removed: the job waits in its queue again. */
  public void minimumEvicted(InferenceJob job) {
    synchronized (admission) {
      withdraw(job, InferenceWorkloads.floor(job.getSpec()));
      admission.evictionDone(InferenceWorkloads.id(job));
    }
  }

  /**
   * Admitted replicas the job could not place ({@code placed} groups run): each keeps its quota for
   * the placement timeout; then it gives it back and waits at the back of its queue. Returns when
   * to look again, empty when nothing unplaced holds quota any more.
   */
  public Optional<Duration> unplaced(InferenceJob job, int placed) {
    synchronized (admission) {
      String minId = InferenceWorkloads.id(job);
      if (placed == 0) {
        Optional<Duration> left = admission.unplaced(minId);
        if (left.isEmpty()) {
          withdraw(job, InferenceWorkloads.floor(job.getSpec()));
        }
        return left;
      }
      int floor = InferenceWorkloads.floor(job.getSpec());
      List<AdmittedWorkload> extras = new ArrayList<>();
      for (int k = floor; k < InferenceWorkloads.MAX_REPLICAS; k++) {
        admission.admittedOf(InferenceWorkloads.replicaId(job, k)).ifPresent(extras::add);
      }
      // The latest admitted are the ones not placed yet.
      extras.sort(Comparator.comparingLong(AdmittedWorkload::admittedAt).reversed());
      int unplaced = Math.max(0, floor + extras.size() - placed);
      Optional<Duration> soonest = Optional.empty();
      for (AdmittedWorkload a : extras.subList(0, Math.min(unplaced, extras.size()))) {
        Optional<Duration> left = admission.unplaced(a.workload().id());
        if (left.isPresent() && (soonest.isEmpty() || left.get().compareTo(soonest.get()) < 0)) {
          soonest = left;
        }
      }
      return soonest;
    }
  }

  /** The job ended, was suspended, stopped for funds or deleted: all its quota is free. */
  public void ended(InferenceJob job) {
    synchronized (admission) {
      List<String> ids = new ArrayList<>();
      ids.add(InferenceWorkloads.id(job));
      for (int k = 0; k < InferenceWorkloads.MAX_REPLICAS; k++) {
        String id = InferenceWorkloads.replicaId(job, k);
        ids.add(id);
        asked.remove(id);
      }
      admission.ended(ids);
    }
  }

  public Duration placementTimeout() {
    return admission.placementTimeout();
  }

  /** Withdraws every replica above the minimum (admitted or waiting). */
  private void withdraw(InferenceJob job, int floor) {
    List<String> ids = new ArrayList<>();
    for (int k = floor; k < InferenceWorkloads.MAX_REPLICAS; k++) {
      String id = InferenceWorkloads.replicaId(job, k);
      asked.remove(id);
      if (admission.admittedOf(id).isPresent() || admission.pendingOf(id).isPresent()) {
        ids.add(id);
      }
    }
    if (!ids.isEmpty()) {
      admission.ended(ids);
    }
  }

  /** The products of the flavor the minimum was admitted on that the job accepts. */
  private static Set<String> flavorProducts(InferenceJobSpec spec, Verdict.Admitted a) {
    Set<String> wanted = InferenceWorkloads.products(spec);
    if (a.products().isEmpty()) {
      return wanted;
    }
    if (wanted.isEmpty()) {
      return a.products();
    }
    Set<String> both = new LinkedHashSet<>(wanted);
    both.retainAll(a.products());
    return both;
  }
}
