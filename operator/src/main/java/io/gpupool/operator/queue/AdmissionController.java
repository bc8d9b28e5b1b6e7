package io.gpupool.operator.queue;

import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.scheduler.queue.Admission;
import io.gpupool.scheduler.queue.AdmissionBook;
import io.gpupool.scheduler.queue.AdmittedWorkload;
import io.gpupool.scheduler.queue.CycleResult;
import io.gpupool.scheduler.queue.NodeShapes;
import io.gpupool.scheduler.queue.Preemption;
import io.gpupool.scheduler.queue.QueueUsage;
import io.gpupool.scheduler.queue.Workload;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The operator's side of admission: feeds jobs and GpuQueues to one {@link AdmissionBook}, runs a
 * decision round whenever something that matters changed (a job arrived or ended, a queue changed,
 * a victim left), and wakes only the jobs a round concerns — the ones admitted, the ones evicted,
 * and the first few of each queue whose place moved — instead of every pending job.
 */
@ApplicationScoped
public class AdmissionController {
  private static final Logger LOG = Logger.getLogger(AdmissionController.class);

  /** Queued jobs beyond this place are not woken when their place moves (status catches up). */
  static final int POSITION_WAKE_LIMIT = 50;

  static final int DEFAULT_GRACE_SECONDS = 60;

  /** How long an admitted job may hold its quota without being placed, unless configured. */
  static final Duration DEFAULT_PLACEMENT_TIMEOUT = Duration.ofMinutes(5);

  private final AdmissionBook book = new AdmissionBook();
  private final Map<String, GpuQueue> queues = new ConcurrentHashMap<>();
  private final Map<String, Integer> positions = new HashMap<>();
  private final Map<String, String> waiting = new HashMap<>();
  private final Map<String, String> inadmissible = new HashMap<>();
  private final Map<String, Eviction> evictions = new HashMap<>();
  private final Map<String, Integer> graceSeconds = new HashMap<>();
  private final Map<String, Instant> created = new HashMap<>();

  /** Arrival of jobs that gave their quota back unplaced: the back of their queue, not creation. */
  private final Map<String, Long> requeuedAt = new HashMap<>();

  private final List<Consumer<String>> wakeListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> queueListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> addedListeners = new CopyOnWriteArrayList<>();
  private final PriorityClasses priorities;
  private final NamespaceLabels namespaces;
  private final QueueMetrics metrics;
  private final Clock clock;
  private final AdmissionSnapshot snapshot;
  private final Duration placementTimeout;
  private boolean dirty;

  /** The pool's node shapes now; null while unknown (then quota alone decides). */
  private Supplier<NodeShapes> nodeShapes = () -> null;

  private boolean shapesStale = true;
  private NodeShapes currentShapes;

  /** When the first borrowing backoff of a waiting workload ends: a round is due then. */
  private long nextBackoffEnd = Long.MAX_VALUE;

  private boolean queuesChanged;
  private boolean rebuilt;

  private record Eviction(String preemptor, Instant deadline) {}

  @Inject
  public AdmissionController(
      PriorityClasses priorities,
      NamespaceLabels namespaces,
      QueueMetrics metrics,
      AdmissionSnapshot snapshot,
      @ConfigProperty(name = "gpupool.queue.placement-timeout", defaultValue = "5m")
          Duration placementTimeout) {
    this(priorities, namespaces, metrics, Clock.systemUTC(), snapshot, placementTimeout);
  }

  /** With the default placement timeout (tests, and tools outside CDI). */
  public AdmissionController(
      PriorityClasses priorities,
      NamespaceLabels namespaces,
      QueueMetrics metrics,
      AdmissionSnapshot snapshot) {
    this(priorities, namespaces, metrics, Clock.systemUTC(), snapshot, DEFAULT_PLACEMENT_TIMEOUT);
  }

  AdmissionController(
      PriorityClasses priorities,
      NamespaceLabels namespaces,
      QueueMetrics metrics,
      Clock clock,
      AdmissionSnapshot snapshot) {
    this(priorities, namespaces, metrics, clock, snapshot, DEFAULT_PLACEMENT_TIMEOUT);
  }

  AdmissionController(
      PriorityClasses priorities, NamespaceLabels namespaces, QueueMetrics metrics, Clock clock) {
    this(
        priorities, namespaces, metrics, clock, AdmissionSnapshot.EMPTY, DEFAULT_PLACEMENT_TIMEOUT);
  }

  AdmissionController(
      PriorityClasses priorities,
      NamespaceLabels namespaces,
      QueueMetrics metrics,
      Clock clock,
      AdmissionSnapshot snapshot,
      Duration placementTimeout) {
    if (placementTimeout.isNegative() || placementTimeout.isZero()) {
      throw new IllegalArgumentException(
          "gpupool.queue.placement-timeout must be positive, got " + placementTimeout);
    }
    this.priorities = priorities;
    this.namespaces = namespaces;
    this.metrics = metrics;
    this.clock = clock;
    this.snapshot = snapshot;
    this.placementTimeout = placementTimeout;
  }

  /** {@code listener} gets {@code namespace/name} of each job a round admitted or evicted. */
  public void onWake(Consumer<String> listener) {
    wakeListeners.add(listener);
  }

  /** {@code listener} gets the name of each queue whose figures a round may have moved. */
  public void onQueueChange(Consumer<String> listener) {
    queueListeners.add(listener);
  }

  /**
   * {@code listener} gets the name of each queue that appears. Jobs looked at before it existed
   * were placed as if no queue applied; they must be offered to it (or counted against it).
   */
  public void onQueueAdded(Consumer<String> listener) {
    addedListeners.add(listener);
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
      addedListeners.forEach(l -> l.accept(queue.getMetadata().getName()));
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

  /** Figures of one queue for its status. */
  public synchronized Optional<QueueUsage> usage(String queue) {
    return book.usage().stream().filter(u -> u.queue().equals(queue)).findFirst();
  }

  // --- the pool's nodes

  /** Where the pool's node shapes come from (read again after {@link #nodesChanged}). */
  public synchronized void nodeShapes(Supplier<NodeShapes> shapes) {
    this.nodeShapes = shapes;
    shapesStale = true;
  }

  /**
   * A node joined, left or changed. Jobs set aside because no node shape could hold them may fit
   * now: a round looks again (only when anything waits), and wakes those it admits.
   */
  public synchronized void nodesChanged() {
    shapesStale = true;
    if (rebuilt && !waiting.isEmpty()) {
      dirty = true;
      round();
    }
  }

  /** Reads the node shapes again when they may have changed; true when they did. */
  private boolean refreshShapes() {
    if (!shapesStale) {
      return false;
    }
    NodeShapes now = nodeShapes.get();
    shapesStale = now == null; // unknown until the nodes have been listed
    if (now == null || now.equals(currentShapes)) {
      return false;
    }
    currentShapes = now;
    book.nodeShapes(now);
    return true;
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
      return verdictOfAdmitted(held.get());
    }
    offer(a, queue.get(), priority.getAsInt());
    round();
    return book.admitted(id)
        .map(this::verdictOfAdmitted)
        .orElseGet(() -> queuedVerdict(id, queue.get(), priority.getAsInt()));
  }

  /**
   * Puts a workload in its queue, or updates it there, without a round. Offered again only when it
   * changed: an unchanged job's reconcile costs no decision round.
   */
  void offer(Applicant a, String queue, int priority) {
    Workload w = arrived(a.workload().of(queue, priority));
    graceSeconds.put(a.id(), a.graceSeconds());
    if (a.created() != null) {
      created.putIfAbsent(a.id(), a.created());
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
      return verdictOfAdmitted(held.get());
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
    restore(a, queue.get(), flavorHint);
    return verdictOfAdmitted(book.admitted(id).orElseThrow());
  }

  /** Counts a workload that holds GPUs against its queue (after a restart), without a round. */
  void restore(Applicant a, String queue, String flavorHint) {
    int priority = priorityOf(a).orElse(0);
    Workload w = a.workload().of(queue, priority);
    String flavor = flavorHint != null ? flavorHint : firstFlavor(queue, w);
    book.restoreAdmitted(w, flavor, clock.millis());
    graceSeconds.put(a.id(), a.graceSeconds());
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
    Set<String> touched = new java.util.HashSet<>();
    for (String id : ids) {
      if (book.admitted(id).isPresent() || book.isPending(id)) {
        String queue = queueOfId(id);
        book.finish(id);
        forget(id);
        dirty = true;
        if (queue != null) {
          touched.add(queue);
        }
      }
    }
    round();
    touched.forEach(this::notifyQueue);
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
    Instant since = Instant.ofEpochMilli(held.get().admittedAt());
    Duration left = placementTimeout.minus(Duration.between(since, clock.instant()));
    if (left.compareTo(Duration.ZERO) > 0) {
      return Optional.of(left);
    }
    long now = clock.millis();
    book.requeue(id);
    Workload back = held.get().workload().withArrival(now);
    book.offer(back);
    requeuedAt.put(id, now);
    LOG.infof(
        "%s not placed within %s of its admission: quota of GpuQueue %s given back",
        id, placementTimeout, back.queue());
    dirty = true;
    round();
    return Optional.empty();
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
    if (clock.millis() >= nextBackoffEnd) {
      nextBackoffEnd = Long.MAX_VALUE;
      dirty = true;
    }
  }

  public Duration placementTimeout() {
    return placementTimeout;
  }

  /** An evicted job's pods are gone: it goes back to its queue, keeping its place. */
  public void evictionDone(TrainingJob job) {
    evictionDone(JobWorkloads.id(job));
  }

  synchronized void evictionDone(String id) {
    rebuildOnce();
    evictions.remove(id);
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
    return positions.getOrDefault(id, 0);
  }

  /** Runs a round if anything offered, restored or ended since the last one asks for it. */
  void settle() {
    rebuildOnce();
    backoffsEnded();
    round();
  }

  /** What admission says of a workload after the last round. */
  Verdict verdictOf(String id, String queue, int priority) {
    return book.admitted(id)
        .map(this::verdictOfAdmitted)
        .orElseGet(() -> queuedVerdict(id, queue, priority));
  }

  private Verdict verdictOfAdmitted(AdmittedWorkload a) {
    String id = a.workload().id();
    Eviction e = evictions.get(id);
    if (a.evicting() && e != null) {
      return new Verdict.Evicted(a.workload().queue(), e.preemptor(), e.deadline());
    }
    Set<String> products =
        book.definition(a.workload().queue())
            .flatMap(d -> d.quota(a.flavor()))
            .map(q -> q.products())
            .orElse(Set.of());
    return new Verdict.Admitted(
        a.workload().queue(), a.flavor(), products, a.workload().priority());
  }

  private Verdict queuedVerdict(String id, String queue, int priority) {
    String never = inadmissible.get(id);
    if (never != null) {
      return new Verdict.Inadmissible(queue, never);
    }
    int position = positions.getOrDefault(id, 0);
    String why = waiting.getOrDefault(id, "waiting behind earlier jobs of GpuQueue " + queue);
    return new Verdict.Queued(queue, position, why, priority);
  }

  // --- after a start

  /**
   * Before the first decision of this process: every job that holds GPUs is counted against its
   * queue and every waiting job takes its place, all at once. Rebuilding job by job as each is
   * reconciled would let a round admit beyond quota (running jobs not yet counted) or admit a later
   * job before an earlier one not yet seen.
   */
  private void rebuildOnce() {
    if (rebuilt) {
      return;
    }
    AdmissionSnapshot.State state = snapshot.read(); // throws: the caller's reconcile is retried
    for (GpuQueue q : state.queues()) {
      try {
        book.putQueue(QueueDefinitions.of(q));
        queues.put(q.getMetadata().getName(), q);
        metrics.queueKnown(q.getMetadata().getName());
      } catch (IllegalArgumentException e) {
        // its reconciler reports it; the queue admits nothing meanwhile
      }
    }
    int holding = 0;
    int waitingJobs = 0;
    for (TrainingJob job : state.trainingJobs()) {
      switch (RestartState.of(job)) {
        case HOLDING -> holding += restoreHolding(job) ? 1 : 0;
        case WAITING -> waitingJobs += restoreWaiting(job) ? 1 : 0;
        case NONE -> {}
      }
    }
    for (InferenceJob job : state.inferenceJobs()) {
      switch (RestartState.of(job)) {
        case HOLDING -> holding += restoreHolding(job) ? 1 : 0;
        case WAITING -> waitingJobs += restoreWaiting(InferenceWorkloads.minimum(job)) ? 1 : 0;
        case NONE -> {}
      }
    }
    rebuilt = true;
    dirty = true;
    LOG.infof(
        "admission rebuilt: %d GpuQueues, %d jobs holding GPUs, %d waiting",
        state.queues().size(), holding, waitingJobs);
  }

  private boolean restoreHolding(TrainingJob job) {
    Applicant a = JobWorkloads.applicant(job);
    Optional<String> queue = queueOf(a);
    if (queue.isEmpty()) {
      return false;
    }
    var st = job.getStatus().queue;
    restore(a, queue.get(), st == null ? null : st.flavor);
    return true;
  }

  /** Its minimum, and each replica it runs above it, on the flavor its status names. */
  private boolean restoreHolding(InferenceJob job) {
    Applicant min = InferenceWorkloads.minimum(job);
    Optional<String> queue = queueOf(min);
    if (queue.isEmpty()) {
      return false;
    }
    var st = job.getStatus();
    String flavor = st.queue == null ? null : st.queue.flavor;
    restore(min, queue.get(), flavor);
    String admitted = book.admitted(min.id()).orElseThrow().flavor();
    Set<String> products =
        book.definition(queue.get())
            .flatMap(d -> d.quota(admitted))
            .map(q -> q.products())
            .orElse(Set.of());
    int floor = InferenceWorkloads.floor(job.getSpec());
    for (int k = floor; k < st.replicas.size(); k++) {
      restore(InferenceWorkloads.replica(job, k, clock.millis(), products), queue.get(), admitted);
    }
    return true;
  }

  private boolean restoreWaiting(TrainingJob job) {
    return restoreWaiting(JobWorkloads.applicant(job));
  }

  private boolean restoreWaiting(Applicant a) {
    Optional<String> queue = queueOf(a);
    OptionalInt priority = priorityOf(a);
    if (queue.isEmpty() || priority.isEmpty()) {
      return false; // its own reconcile reports it
    }
    offer(a, queue.get(), priority.getAsInt());
    return true;
  }

  // --- a decision round

  private void round() {
    if (refreshShapes()) {
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
    // A job set aside for the pool's node shapes is told when that is no longer why it waits.
    waiting.forEach(
        (id, why) -> {
          if (why.startsWith(AdmissionBook.NO_NODE_SHAPE)
              && !why.equals(result.waiting().get(id))) {
            wake(id);
          }
        });
    waiting.clear();
    waiting.putAll(result.waiting());
    nextBackoffEnd = Long.MAX_VALUE;
    for (String id : result.waiting().keySet()) {
      long until = book.borrowingBarredUntil(id).orElse(0);
      if (until > now.toEpochMilli()) {
        nextBackoffEnd = Math.min(nextBackoffEnd, until);
      }
    }
    Map<String, String> wasInadmissible = new HashMap<>(inadmissible);
    inadmissible.clear();
    inadmissible.putAll(result.inadmissible());
    carryOverInadmissible(wasInadmissible, result);
    for (Preemption p : result.preempted()) {
      int grace = graceSeconds.getOrDefault(p.victimId(), DEFAULT_GRACE_SECONDS);
      evictions.put(p.victimId(), new Eviction(p.preemptorId(), now.plusSeconds(grace)));
      metrics.preempted(p.victimQueue(), p.reason());
      LOG.infof(
          "%s evicted for %s (%s); pods removed in %ds",
          p.victimId(), p.preemptorId(), p.reason(), grace);
      wake(p.victimId());
    }
    for (Admission a : result.admitted()) {
      Instant since = created.remove(a.workloadId());
      metrics.admitted(a.queue(), since == null ? Duration.ZERO : Duration.between(since, now));
      wake(a.workloadId());
    }
    Map<String, Integer> before = new HashMap<>(positions);
    Map<String, Long> oldest = new HashMap<>();
    positions.clear();
    book.positions(
        (id, queue, position) -> {
          positions.put(id, position);
          Instant since = created.get(id);
          if (since != null) {
            oldest.merge(queue, since.getEpochSecond(), Math::min);
          }
          Integer old = before.get(id);
          if (position <= POSITION_WAKE_LIMIT && (old == null || old != position)) {
            wake(id);
          }
        });
    metrics.usage(book.usage());
    metrics.oldestPending(oldest);
    queues.keySet().forEach(this::notifyQueue);
  }

  /**
   * A round says which jobs are inadmissible only of those it looked at. One it did not look at
   * keeps its verdict while no queue changed (only a queue's definition makes a job admissible);
   * after a change it is asked again. Every job whose verdict changed either way is woken, so that
   * its status no longer says it can never be admitted once a queue opened (and a job marked while
   * a quota was 0 is offered again).
   */
  private void carryOverInadmissible(Map<String, String> before, CycleResult result) {
    boolean recheck = queuesChanged;
    queuesChanged = false;
    for (var e : before.entrySet()) {
      String id = e.getKey();
      if (inadmissible.containsKey(id) || result.waiting().containsKey(id) || !book.isPending(id)) {
        continue;
      }
      if (!recheck) {
        inadmissible.put(id, e.getValue());
      } else {
        book.inadmissible(id).ifPresent(why -> inadmissible.put(id, why));
      }
    }
    for (var e : before.entrySet()) {
      if (!e.getValue().equals(inadmissible.get(e.getKey()))) {
        wake(e.getKey());
      }
    }
    for (String id : inadmissible.keySet()) {
      if (!before.containsKey(id)) {
        wake(id);
      }
    }
  }

  private Workload arrived(Workload w) {
    Long at = requeuedAt.get(w.id());
    return at == null ? w : w.withArrival(at);
  }

  private void wake(String id) {
    for (Consumer<String> l : wakeListeners) {
      l.accept(id);
    }
  }

  private void notifyQueue(String queue) {
    if (queue == null) {
      return;
    }
    for (Consumer<String> l : queueListeners) {
      l.accept(queue);
    }
  }

  // --- helpers

  Optional<String> queueOf(Applicant a) {
    String ns = a.namespace();
    String named = a.namedQueue();
    if (named != null) {
      return Optional.of(named);
    }
    if (queues.isEmpty()) {
      return Optional.empty(); // no queue exists: nothing to look up
    }
    return QueueAssignment.resolve(null, ns, namespaces.of(ns), queues.values());
  }

  OptionalInt priorityOf(Applicant a) {
    if (a.priority() != null) {
      return OptionalInt.of(a.priority());
    }
    if (a.priorityClassName() != null && !a.priorityClassName().isBlank()) {
      return priorities.value(a.priorityClassName());
    }
    return OptionalInt.of(0);
  }

  private String firstFlavor(String queue, Workload w) {
    return book.definition(queue)
        .flatMap(
            d ->
                d.quotas().stream()
                    .filter(
                        q ->
                            w.allowedProducts().isEmpty()
                                || q.products().stream().anyMatch(w.allowedProducts()::contains))
                    .findFirst())
        .map(q -> q.flavor())
        .orElse("unknown");
  }

  private String queueOfId(String id) {
    return book.admitted(id).map(a -> a.workload().queue()).orElse(null);
  }

  private void forget(String id) {
    graceSeconds.remove(id);
    created.remove(id);
    evictions.remove(id);
    positions.remove(id);
    requeuedAt.remove(id);
  }
}
