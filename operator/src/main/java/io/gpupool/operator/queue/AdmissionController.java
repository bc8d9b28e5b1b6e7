package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.AdmittedWorkload;
import io.gpupool.scheduler.queue.CycleResult;
import io.gpupool.scheduler.queue.NodeShapes;
import io.gpupool.scheduler.queue.QueueUsage;
import io.gpupool.scheduler.queue.Workload;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The operator's side of admission: feeds jobs and GpuQueues to one {@link AdmissionBook}, runs a
 * decision round whenever something that matters changed (a job arrived or ended, a queue changed,
 * a victim left), and wakes only the jobs a round concerns — the ones admitted, the ones evicted,
 * and the first few of each queue whose place moved — instead of every pending job. What a round
 * decided is told by {@link RoundEffects}.
 */
@ApplicationScoped
public class AdmissionController {

  private final AdmissionBook book = new AdmissionBook();
  private final Map<String, GpuQueue> queues = new ConcurrentHashMap<>();

  private final WaitingJobs waiting = new WaitingJobs();
  private final PoolShapes shapes = new PoolShapes();
  private final InadmissibleJobs inadmissible;
  private final AdmissionWakes wakes = new AdmissionWakes(this::refreshPositions);
  private final OldestPending oldest;
  private final EvictionNotices notices = new EvictionNotices();
  private final PlacementTimeouts timeouts;
  private final QueueLookup lookup;
  private final Verdicts verdicts;
  private final RoundEffects effects;

  private final QueueMetrics metrics;
  private final Clock clock;
  private final AdmissionSnapshot snapshot;
  private boolean dirty;

  private boolean queuesChanged;
  private boolean rebuilt;

  @Inject
  public AdmissionController(
      PriorityClasses priorities,
      NamespaceLabels namespaces,
      QueueMetrics metrics,
      AdmissionSnapshot snapshot,
      GpupoolConfig config) {
    this(
        priorities,
        namespaces,
        metrics,
        Clock.systemUTC(),
        snapshot,
        config.queue().placementTimeout());
  }

  /** With the default placement timeout (tests, and tools outside CDI). */
  public AdmissionController(
      PriorityClasses priorities,
      NamespaceLabels namespaces,
      QueueMetrics metrics,
      AdmissionSnapshot snapshot) {
    this(priorities, namespaces, metrics, Clock.systemUTC(), snapshot, PlacementTimeouts.DEFAULT);
  }

  AdmissionController(
      PriorityClasses priorities, NamespaceLabels namespaces, QueueMetrics metrics, Clock clock) {
    this(
        priorities, namespaces, metrics, clock, AdmissionSnapshot.EMPTY, PlacementTimeouts.DEFAULT);
  }

  AdmissionController(
      PriorityClasses priorities,
      NamespaceLabels namespaces,
      QueueMetrics metrics,
      Clock clock,
      AdmissionSnapshot snapshot,
      Duration placementTimeout) {
    this.timeouts = new PlacementTimeouts(placementTimeout);
    this.lookup = new QueueLookup(queues, namespaces, priorities);
    this.metrics = metrics;
    this.clock = clock;
    this.snapshot = snapshot;
    this.inadmissible = new InadmissibleJobs(wakes::wake);
    this.oldest = new OldestPending(metrics, this::refreshOldestPending);
    this.verdicts = new Verdicts(book, notices, inadmissible, waiting, wakes);
    this.effects =
        new RoundEffects(
            new RoundEffects.Parts(book, waiting, inadmissible, notices, oldest, wakes, metrics));
  }

  /** {@code listener} gets {@code namespace/name} of each job a round admitted or evicted. */
  public void onWake(Consumer<String> listener) {
    wakes.onWake(listener);
  }

  /** {@code listener} gets the name of each queue whose figures a round may have moved. */
  public void onQueueChange(Consumer<String> listener) {
    wakes.onQueueChange(listener);
  }

  /**
   * {@code listener} gets the name of each queue that appears. Jobs looked at before it existed
   * were placed as if no queue applied; they must be offered to it (or counted against it).
   */
  public void onQueueAdded(Consumer<String> listener) {
    wakes.onQueueAdded(listener);
  }

  // --- queues

  /** Adds or updates a queue; throws IllegalArgumentException naming the bad field. */
  public void putQueue(GpuQueue queue) {
    var definition = QueueDefinitions.of(queue);
    boolean added;
    synchronized (this) {
      rebuildOnce();
      added = queues.put(queue.getMetadata().getName(), queue) == null;
      book.putQueue(definition);
      metrics.queueKnown(queue.getMetadata().getName());
      dirty = true;
      queuesChanged = true;
      round();
    }
    if (added) {
      wakes.queueAdded(queue.getMetadata().getName());
    }
  }

  public synchronized void removeQueue(String name) {
    rebuildOnce();
    queues.remove(name);
    book.removeQueue(name);
    dirty = true;
    queuesChanged = true;
    round();
  }

  /** A queue found at a start, before the first round. */
  void knownQueue(GpuQueue q) {
    book.putQueue(QueueDefinitions.of(q));
    queues.put(q.getMetadata().getName(), q);
    metrics.queueKnown(q.getMetadata().getName());
  }

  /** Figures of one queue for its status. */
  public synchronized Optional<QueueUsage> usage(String queue) {
    return book.usage().stream().filter(u -> u.queue().equals(queue)).findFirst();
  }

  // --- the pool's nodes

  /** Where the pool's node shapes come from (read again after {@link #nodesChanged}). */
  public synchronized void nodeShapes(Supplier<NodeShapes> source) {
    shapes.source(source);
  }

  /**
   * A node joined, left or changed. Jobs set aside because no node shape could hold them may fit
   * now: a round looks again (only when anything waits), and wakes those it admits.
   */
  public synchronized void nodesChanged() {
    shapes.stale();
    if (rebuilt && !waiting.isEmpty()) {
      dirty = true;
      round();
    }
  }

  // --- jobs

  /**
   * For a job that holds no GPUs and wants some: is it admitted, and on which products? Offers it
   * to its queue first (again when its queue or priority changed).
   */
  public Verdict decide(TrainingJob job) {
    return decide(JobWorkloads.applicant(job));
  }

  synchronized Verdict decide(Applicant a) {
    rebuildOnce();
    backoffsEnded();
    String id = a.id();
    Optional<String> queue = queueOf(a);
    if (queue.isEmpty()) {
      forget(id);
      return new Verdict.NotQueued();
    }
    OptionalInt priority = priorityOf(a);
    if (priority.isEmpty()) {
      forget(id);
      return new Verdict.Inadmissible(
          queue.get(), "PriorityClass " + a.priorityClassName() + " does not exist");
    }
    Optional<AdmittedWorkload> held = book.admitted(id);
    if (held.isPresent()) {
      return verdicts.admitted(held.get());
    }
    offer(a, queue.get(), priority.getAsInt());
    wakes.deciding(id);
    try {
      round();
    } finally {
      wakes.deciding(null);
    }
    return verdicts.of(id, queue.get(), priority.getAsInt());
  }

  /**
   * Puts a workload in its queue, or updates it there, without a round. Offered again only when it
   * changed: an unchanged job's reconcile costs no decision round.
   */
  void offer(Applicant a, String queue, int priority) {
    Workload w = timeouts.arrived(a.workload().of(queue, priority));
    notices.grace(a.id(), a.graceSeconds());
    if (a.created() != null) {
      oldest.arrived(a.id(), a.created());
    }
    if (!w.equals(book.pending(a.id()).orElse(null)) && book.offer(w)) {
      dirty = true;
    }
  }

  /**
   * For a job that holds GPUs (running, or found running after a restart): makes sure its quota is
   * counted, and says whether it has been evicted.
   */
  public Verdict holding(TrainingJob job, String flavorHint) {
    return holding(JobWorkloads.applicant(job), flavorHint);
  }

  synchronized Verdict holding(Applicant a, String flavorHint) {
    rebuildOnce();
    String id = a.id();
    Optional<AdmittedWorkload> held = book.admitted(id);
    if (held.isPresent()) {
      return verdicts.admitted(held.get());
    }
    Optional<Workload> waitingAgain = book.pending(id);
    if (waitingAgain.isPresent()) {
      // Waiting in its queue while this copy shows GPUs: the copy is older than the eviction that
      // put it back. Counting it as running again would admit it twice (over quota, onto GPUs
      // the preemptor now holds).
      return new Verdict.Requeued(waitingAgain.get().queue());
    }
    Optional<String> queue = queueOf(a);
    if (queue.isEmpty()) {
      return new Verdict.NotQueued();
    }
    restore(a, queue.get(), flavorHint, clock.millis());
    return verdicts.admitted(book.admitted(id).orElseThrow());
  }

  /**
   * Counts a workload that holds GPUs against its queue (after a restart), without a round, as
   * admitted at {@code admittedAt} (millis).
   */
  void restore(Applicant a, String queue, String flavorHint, long admittedAt) {
    int priority = priorityOf(a).orElse(0);
    // At the back of its level still if it gave its quota back before: an eviction requeues it so.
    Workload w = timeouts.arrived(a.workload().of(queue, priority));
    String flavor = flavorHint != null ? flavorHint : lookup.firstFlavor(book, queue, w);
    book.restoreAdmitted(w, flavor, admittedAt);
    notices.grace(a.id(), a.graceSeconds());
    dirty = true;
  }

  /**
   * Admitted and holding its queue's quota now, whatever the job's cached status still says (its
   * admission may not have been written yet).
   */
  public boolean holdsQuota(TrainingJob job) {
    return holdsQuota(JobWorkloads.id(job));
  }

  synchronized boolean holdsQuota(String id) {
    return book.admitted(id).isPresent();
  }

  /** The job wrote a checkpoint: evicting it now loses less. */
  public void checkpointed(TrainingJob job, Instant at) {
    checkpointed(JobWorkloads.id(job), at);
  }

  synchronized void checkpointed(String id, Instant at) {
    book.checkpointed(id, at.toEpochMilli());
  }

  /** The job ended, was suspended or deleted: its quota is free for the next. */
  public void ended(TrainingJob job) {
    ended(List.of(JobWorkloads.id(job)));
  }

  /** The workloads are gone: their quota is free, one round for all of them. */
  synchronized void ended(List<String> ids) {
    rebuildOnce();
    Set<String> touched = new HashSet<>();
    for (String id : ids) {
      if (book.admitted(id).isPresent() || book.isPending(id)) {
        String queue = book.admitted(id).map(w -> w.workload().queue()).orElse(null);
        book.finish(id);
        forget(id);
        dirty = true;
        if (queue != null) {
          touched.add(queue);
        }
      }
    }
    round();
    touched.forEach(wakes::queueChanged);
  }

  /**
   * The admitted job could not be placed (no room on its products, no funds, over its cost cap).
   * Returns how much longer it may hold its quota so; empty when it holds none: not admitted, or it
   * has held it unplaced for the placement timeout and has just given it back, going to the back of
   * its priority level in its queue so that jobs behind it get their turn (Kueue's
   * waitForPodsReady). It is admitted again when its turn comes, with a fresh timeout.
   */
  public Optional<Duration> unplaced(TrainingJob job) {
    return unplaced(JobWorkloads.id(job));
  }

  synchronized Optional<Duration> unplaced(String id) {
    rebuildOnce();
    Optional<AdmittedWorkload> held = book.admitted(id);
    if (held.isEmpty() || held.get().evicting()) {
      return Optional.empty();
    }
    Duration left = timeouts.left(held.get(), clock.instant());
    if (left.compareTo(Duration.ZERO) > 0) {
      return Optional.of(left);
    }
    timeouts.giveBack(book, held.get(), clock.millis());
    dirty = true;
    round();
    return Optional.empty();
  }

  /**
   * When workload {@code id} last gave its quota back unplaced, putting it at the back of its
   * priority level; empty when it has not (its place counts from its creation).
   */
  public synchronized Optional<Instant> queuedSince(String id) {
    return timeouts.queuedSince(id);
  }

  /**
   * How long the waiting job may not borrow cohort quota yet (it was evicted more than once); empty
   * when it may. Its reconcile looks again then: nothing else may happen in the pool meanwhile.
   */
  public Optional<Duration> borrowingBackoff(TrainingJob job) {
    return borrowingBackoff(JobWorkloads.id(job));
  }

  synchronized Optional<Duration> borrowingBackoff(String id) {
    if (!book.isPending(id)) {
      return Optional.empty();
    }
    long left = book.borrowingBarredUntil(id).orElse(0) - clock.millis();
    return left > 0 ? Optional.of(Duration.ofMillis(left)) : Optional.empty();
  }

  private void backoffsEnded() {
    if (waiting.backoffEnded(clock.millis())) {
      dirty = true;
    }
  }

  public Duration placementTimeout() {
    return timeouts.timeout();
  }

  /** An evicted job's pods are gone: it goes back to its queue, keeping its place. */
  public void evictionDone(TrainingJob job) {
    evictionDone(JobWorkloads.id(job));
  }

  synchronized void evictionDone(String id) {
    rebuildOnce();
    notices.done(id);
    book.requeue(id);
    dirty = true;
    round();
  }

  // --- for InferenceAdmission (which holds this controller's lock while it calls these)

  Optional<AdmittedWorkload> admittedOf(String id) {
    return book.admitted(id);
  }

  Optional<Workload> pendingOf(String id) {
    return book.pending(id);
  }

  /** 1-based place of a pending workload in its queue after the last round; 0 when unknown. */
  int positionOf(String id) {
    return wakes.position(book, id);
  }

  /** Runs a round if anything offered, restored or ended since the last one asks for it. */
  void settle() {
    rebuildOnce();
    backoffsEnded();
    round();
  }

  /** What admission says of a workload after the last round. */
  Verdict verdictOf(String id, String queue, int priority) {
    return verdicts.of(id, queue, priority);
  }

  // --- after a start

  /** Before the first decision of this process, the book is rebuilt from the cluster. */
  private void rebuildOnce() {
    if (rebuilt) {
      return;
    }
    AdmissionSnapshot.State state = snapshot.read(); // throws: the caller's reconcile is retried
    new AdmissionRebuild(this, book, notices, timeouts, clock).rebuild(state);
    rebuilt = true;
    dirty = true;
  }

  // --- a decision round

  private void round() {
    if (shapes.refresh(book)) {
      dirty = true;
    }
    if (!dirty) {
      return;
    }
    dirty = false;
    Instant now = clock.instant();
    long start = System.nanoTime();
    CycleResult result = book.cycle(now.toEpochMilli());
    metrics.cycle(Duration.ofNanos(System.nanoTime() - start));
    boolean queuesWereChanged = queuesChanged;
    queuesChanged = false;
    effects.apply(result, now, queuesWereChanged, this::backoffEnded, queues.keySet());
  }

  /** A borrowing backoff has ended: the workload may be admitted on borrowed quota now. */
  synchronized void backoffEnded() {
    waiting.backoffRoundRan();
    settle();
  }

  synchronized void refreshOldestPending() {
    oldest.refresh(book, clock.instant(), wakes.later());
  }

  /** Uses {@code later} for the positions and oldest-job refreshes (tests: simulated time). */
  synchronized void refreshPositionsWith(Later later) {
    wakes.later(later);
  }

  /** Wakes the jobs whose place moved since the last refresh and still wait. */
  synchronized void refreshPositions() {
    wakes.refreshPositions(book::isPending);
  }

  Optional<String> queueOf(Applicant a) {
    return lookup.queueOf(a);
  }

  OptionalInt priorityOf(Applicant a) {
    return lookup.priorityOf(a);
  }

  private void forget(String id) {
    inadmissible.forget(id);
    notices.forget(id);
    oldest.forget(id);
    wakes.forget(id);
    timeouts.forget(id);
  }
}
