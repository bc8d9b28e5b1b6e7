package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.metering.PodLifetime;
import io.gpupool.operator.config.DaemonThreads;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.workload.ClusterPods;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * Follows every gpupool pod (label {@code gpupool.io/job-name}) and meters the GPU time the
 * operator saw it deliver into the {@link BillingLedger}: every interval for running pods, at once
 * when a pod ends, is deleted or its node stops being Ready.
 *
 * <p>What is billed (docs/billing.md): only pods the operator placed ({@link PodOwnership}), at the
 * price and GPU share fixed at placement ({@link PlacementTerms}, as the operator recorded them in
 * the job's usage record, {@link PlacedTerms}), from the container's start to its end with the
 * kubelet's times clamped to the operator's own observations ({@link BillableTime}), and never past
 * the start of an outage of its node ({@link NodeOutages}).
 *
 * <p>Each metered pod is kept as a {@link PodRecord} in the job's usage ConfigMap; a running pod's
 * record ends at the last instant it was seen running. A job's cumulative figures are always
 * recomputed from all its records plus its live pods, so a pod that ended or vanished (even while
 * the operator was down) still counts, and one seen again is counted once (by pod UID).
 *
 * <p>Pairs: job = the job's UID; payer = {@code spec.budget.payer}, or {@link #NO_ADDRESS} for a
 * job without budget; provider = the GpuProvider's {@code payoutAddress} ({@link #NO_ADDRESS} when
 * it has none). A pair with {@link #NO_ADDRESS} is metered and shown, never settled.
 */
public final class UsageMeter implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(UsageMeter.class);

  /** Stands for a missing payer or payout address: such pairs are never settled. */
  public static final String NO_ADDRESS = "0x0000000000000000000000000000000000000000";

  private final NodeInventory nodes;
  private final ConfigMapBillingStore store;
  private final BillingLedger ledger;
  private final Clock clock;
  private final Duration interval;
  private final Map<String, TrackedPod> tracked = new ConcurrentHashMap<>();
  private final NodeOutages outages = new NodeOutages();
  private final MeteredJobs jobs;
  private final PodIntake intake;

  /** After a pod end, the hooks run once per burst and at most once a second (their javadoc). */
  static final Duration FOLLOW_UP_GAP = Duration.ofSeconds(1);

  private final MeteringFollowUps afterMetering =
      new MeteringFollowUps(FOLLOW_UP_GAP, System::nanoTime);
  private final List<Consumer<JobRef>> podEndMetered = new CopyOnWriteArrayList<>();
  private final ClusterPods pods;
  private final ResourceEventHandler<Pod> podEvents =
      new ResourceEventHandler<>() {
        @Override
        public void onAdd(Pod pod) {
          if (isJobPod(pod)) {
            observe(pod, null);
          }
        }

        @Override
        public void onUpdate(Pod old, Pod pod) {
          if (isJobPod(pod)) {
            observe(pod, null);
          }
        }

        @Override
        public void onDelete(Pod pod, boolean unknown) {
          if (isJobPod(pod)) {
            observe(pod, clock.instant());
          }
        }
      };
  private volatile boolean listening;
  private ScheduledExecutorService executor;

  public UsageMeter(
      KubernetesClient client,
      ClusterPods pods,
      ProviderDirectory providers,
      NodeInventory nodes,
      ConfigMapBillingStore store,
      Clock clock,
      Duration interval) {
    this.pods = pods;
    this.nodes = nodes;
    this.store = store;
    this.ledger = new BillingLedger(store);
    this.clock = clock;
    this.interval = interval;
    this.jobs = new MeteredJobs(client, store);
    this.intake = new PodIntake(providers, store, jobs);
  }

  /**
   * Where jobs are found before asking the API server: the job controllers' caches, which hold
   * every job whose pods they created (so a new pod costs no GET).
   */
  public void findJobsIn(Function<JobRef, Optional<HasMetadata>> cached) {
    jobs.findIn(cached);
  }

  /**
   * Who pays a job's usage, given the job and its budget: the operator's billing decides it from
   * the job's BillingAccount. Default: the budget's payer address as written.
   */
  public void resolvePayersWith(BiFunction<HasMetadata, Budget, Optional<String>> resolver) {
    jobs.resolvePayersWith(resolver);
  }

  /**
   * How the terms of a pod placed without a terms record (by an earlier operator) are rebuilt,
   * given the pod and its job: from the operator's own view, never the pod's annotations. Default:
   * they are not, and such a pod is not metered ({@link PodOwnership.Verdict#NO_TERMS}).
   */
  public void rebuildTermsWith(BiFunction<Pod, HasMetadata, Optional<PlacedTerms>> rebuild) {
    intake.rebuildTermsWith(rebuild);
  }

  public BillingLedger ledger() {
    return ledger;
  }

  /** Runs {@code hook} with the reason each time a pod is found not to be the operator's. */
  public void onIgnoredPod(Consumer<PodOwnership.Verdict> hook) {
    intake.onIgnored(hook);
  }

  /**
   * Runs {@code hook} after each metering pass, and soon after pod ends are metered: once for a
   * burst of them, at most once per {@link #FOLLOW_UP_GAP} (metrics, account status).
   */
  public void afterMetering(Runnable hook) {
    afterMetering.add(hook);
  }

  /**
   * Runs {@code hook} with a job each time the end of one of its pods has been metered. A finished
   * job's usage changes only then (a verifier that ends after the gang, a pod whose end is metered
   * after the job's last reconcile), and nothing in the cluster tells its controller so.
   */
  public void onPodEndMetered(Consumer<JobRef> hook) {
    podEndMetered.add(hook);
  }

  /**
   * Start following pods and metering on a background thread; the first pass (stored records plus
   * the pods present) runs at once.
   */
  public synchronized void start() {
    executor = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("billing-metering"));
    pods.listen(podEvents);
    listening = true;
    ScheduledExecutorService own = executor;
    nodes.onChange(
        name -> {
          if (!own.isShutdown()) {
            try {
              own.execute(() -> nodeSeen(name));
            } catch (RejectedExecutionException closed) {
              // this meter was closed meanwhile
            }
          }
        });
    Periodic.every(executor, Duration.ZERO, interval, "metering pass", this::meterAll);
  }

  @Override
  public synchronized void close() {
    if (listening) {
      pods.stopListening(podEvents);
      listening = false;
    }
    if (executor != null) {
      executor.shutdownNow();
    }
  }

  /**
   * Meter every job that has live pods or a usage ConfigMap, then delete the usage of jobs that are
   * gone and have nothing left to settle.
   */
  public void meterAll() {
    observeNodes();
    if (listening) {
      pods.list().stream().filter(UsageMeter::isJobPod).forEach(p -> observe(p, null));
    }
    Set<String> jobs = new TreeSet<>(store.jobUids());
    tracked.values().forEach(t -> jobs.add(t.job().uid()));
    for (String uid : jobs) {
      meterJob(uid);
    }
    collectGarbage();
    afterMetering.runNow();
  }

  /** Meter one job now: its stored records and its live pods; returns its pairs' figures. */
  public synchronized List<PairLedger> meterJob(String jobUid) {
    Instant now = clock.instant();
    Map<String, PodRecord> stored = store.pods(jobUid);
    Map<String, PodLifetime> lifetimes = new HashMap<>();
    stored.forEach((uid, r) -> lifetimes.put(uid, r.lifetime()));
    List<PodRecord> write = new ArrayList<>();
    boolean podEnded = false;
    // how far the job's running pods may be charged depends on their nodes as seen now
    tracked.values().stream()
        .filter(t -> t.job().uid().equals(jobUid) && t.nodeName() != null)
        .map(TrackedPod::nodeName)
        .distinct()
        .forEach(this::nodeSeen);
    List<TrackedPod> live =
        tracked.values().stream().filter(t -> t.job().uid().equals(jobUid)).toList();
    JobRef job = null;
    for (TrackedPod t : live) {
      job = t.job();
      String podUid = t.podUid();
      PodRecord prior = stored.get(podUid);
      if (prior != null && prior.ended()) {
        continue; // its real end is already stored
      }
      // a pod keeps the pair, start, GPUs and price it was first stored with (across restarts)
      PodLifetime base =
          prior != null
              ? prior.lifetime()
              : new PodLifetime(podUid, t.pair(), t.start(), null, t.milliGpus(), t.price());
      // what a stored running record already charged is never taken back
      Instant charged = prior == null ? null : prior.lifetime().end();
      Instant end =
          t.end() == null ? null : BillableTime.later(later(t.end(), base.start()), charged);
      Instant recordEnd =
          end != null
              ? end
              : BillableTime.provisionalEnd(
                  now, outages.billableUntil(t.nodeName()).orElse(null), base.start(), charged);
      PodLifetime record =
          new PodLifetime(
              podUid,
              base.pair(),
              base.start(),
              recordEnd,
              base.milliGpus(),
              base.priceWeiPerGpuHour());
      lifetimes.put(podUid, record);
      PodRecord next = new PodRecord(record, t.providerName(), t.nodeName(), end != null);
      if (!next.equals(prior)) {
        write.add(next);
        podEnded |= next.ended();
      }
    }
    if (!write.isEmpty()) {
      store.putPods(job, write);
    }
    List<PairLedger> result =
        lifetimes.isEmpty() ? List.of() : ledger.record(lifetimes.values(), now);
    for (TrackedPod t : live) {
      if (t.gone()) {
        tracked.remove(t.podUid());
      }
    }
    if (podEnded) {
      JobRef ended = job;
      podEndMetered.forEach(hook -> hook.accept(ended));
    }
    return result;
  }

  /**
   * The jobs whose pods ran on {@code node} of GpuProvider {@code provider}, as metered: those it
   * follows now (not yet written) and those in the usage records, ended pods included for as long
   * as their records are kept (until their job is gone and settled). What one node is proven to
   * have done concerns these jobs only.
   */
  public List<JobRef> jobsRunOn(String provider, String node) {
    Map<String, JobRef> jobs = new LinkedHashMap<>();
    for (TrackedPod t : tracked.values()) {
      if (provider.equals(t.providerName()) && node.equals(t.nodeName())) {
        jobs.putIfAbsent(t.job().uid(), t.job());
      }
    }
    for (String uid : store.jobUids()) {
      if (!jobs.containsKey(uid)
          && store.pods(uid).values().stream().anyMatch(r -> r.mayHaveRunOn(provider, node))) {
        store.job(uid).ifPresent(j -> jobs.put(uid, j));
      }
    }
    return List.copyOf(jobs.values());
  }

  /**
   * Takes in pods the operator is about to delete as {@code job}'s own, and stores their usage so
   * far, before it deletes them. A replica group's pods are listed in their InferenceJob's status
   * only by a step that sees them after their creation; when the leader that created them died
   * first, the next leader's first step may be the one that deletes them (the job was suspended
   * meanwhile), and no status ever listed them: the meter refused them as not placed and their
   * usage was lost (ChaosE2E). Taken in here, such a pod is metered from its start to its deletion,
   * once (by UID) like any other; its owner, job UID and the terms recorded at placement on its
   * node are checked as always ({@link PodOwnership#checkRemoved}). Stored here, on the deleting
   * thread, its usage also survives a leader killed between the delete and the metering of the
   * pod's end; a failed write throws, and the pods are not deleted.
   */
  public void removing(HasMetadata job, List<Pod> pods) {
    for (Pod pod : pods) {
      String uid = pod.getMetadata().getUid();
      if (uid != null) {
        intake.removing(uid, job);
        observe(pod, null);
      }
    }
    meterJob(job.getMetadata().getUid());
  }

  /**
   * Take in the latest state of a pod; {@code deletedAt} is set when the pod was deleted. A pod
   * that ended, was deleted or whose node is down is metered at once.
   */
  void observe(Pod pod, Instant deletedAt) {
    String uid = pod.getMetadata().getUid();
    if (uid == null) {
      return;
    }
    try {
      takeIn(pod, uid, deletedAt);
    } finally {
      if (deletedAt != null) {
        intake.deleted(uid); // whatever the intake kept of it (its UID never comes back)
      }
    }
  }

  private void takeIn(Pod pod, String uid, Instant deletedAt) {
    if (intake.ignored(uid, deletedAt != null)) {
      return;
    }
    Instant now = clock.instant();
    TrackedPod first = null;
    TrackedPod before = tracked.get(uid);
    if (before == null) {
      Instant start = BillableTime.start(PodUsage.start(pod), PodUsage.created(pod), now);
      if (start == null) {
        return; // never ran: nothing to bill
      }
      first = intake.admit(pod, uid, start, now);
      if (first == null) {
        return; // not metered (now, or ever when it is not the operator's)
      }
    }
    Instant reported = PodUsage.end(pod, deletedAt);
    // a pod bills only while Running: one that left it without an end bills until seen so
    boolean stopped = reported != null || deletedAt != null || !PodUsage.running(pod);
    TrackedPod seed = first;
    // merged atomically: an end or a deletion once seen is never undone by a staler event
    TrackedPod next =
        tracked.compute(
            uid,
            (k, cur) -> {
              TrackedPod t = cur != null ? cur : seed;
              if (t == null) {
                return null;
              }
              if (stopped) {
                t = t.ended(BillableTime.end(reported, t.start(), now), deletedAt != null);
              }
              return t.cappedBy(outages.outageStart(t.nodeName()));
            });
    if (next == null) {
      return; // forgotten meanwhile: it ended and was stored
    }
    boolean ended = next.end() != null && (before == null || before.end() == null);
    if (ended || next.gone()) {
      meterSoon(next.job());
    }
  }

  private void meterSoon(JobRef job) {
    if (executor == null) {
      return;
    }
    executor.execute(
        () -> {
          try {
            meterJob(job.uid());
          } catch (RuntimeException e) {
            LOG.warnf(e, "metering %s failed; retried in %s", job, interval);
            return;
          }
          ScheduledExecutorService own = executor;
          afterMetering.request(
              (task, delayNanos) -> own.schedule(task, delayNanos, TimeUnit.NANOSECONDS));
        });
  }

  /** Every GPU node's readiness as the inventory shows it now, and nodes of pods that left. */
  private void observeNodes() {
    Set<String> names = new HashSet<>();
    nodes.nodes().forEach(n -> names.add(n.name()));
    tracked.values().forEach(t -> names.add(t.nodeName()));
    names.remove(null);
    names.forEach(this::nodeSeen);
    outages.retainOnly(names);
  }

  /**
   * Takes in what the inventory shows of a node now; when that reveals an outage, the pods running
   * there stop being billed at its start and are metered at once.
   */
  void nodeSeen(String name) {
    Instant now = clock.instant();
    Optional<GpuNode> node = nodes.node(name);
    Optional<Instant> outage;
    if (node.isPresent()) {
      outage = outages.observe(name, node.get().ready(), node.get().notReadySince(), now);
    } else if (nodes.synced()) {
      outage = outages.left(name, now);
    } else {
      return;
    }
    if (outage.isEmpty()) {
      return;
    }
    LOG.infof("Node(%s) stopped being Ready: its pods are billed until %s", name, outage.get());
    Set<JobRef> jobs = new HashSet<>();
    for (TrackedPod t : tracked.values()) {
      if (name.equals(t.nodeName()) && t.end() == null) {
        TrackedPod capped = tracked.computeIfPresent(t.podUid(), (k, cur) -> cur.cappedBy(outage));
        if (capped != null) {
          jobs.add(capped.job());
        }
      }
    }
    jobs.forEach(this::meterSoon);
  }

  /** The pods metered: those that carry a job's name label (what gpupool creates for jobs). */
  private static boolean isJobPod(Pod pod) {
    return pod.getMetadata().getLabels() != null
        && pod.getMetadata().getLabels().containsKey(GpupoolApi.JOB_NAME_LABEL);
  }

  /** True when a pair can be settled on chain (it has a payer and a payout address). */
  public static boolean settleable(PairId pair) {
    return !NO_ADDRESS.equals(pair.payer()) && !NO_ADDRESS.equals(pair.provider());
  }

  private void collectGarbage() {
    Set<String> live =
        tracked.values().stream().map(t -> t.job().uid()).collect(Collectors.toSet());
    for (String uid : store.jobUids()) {
      if (live.contains(uid)) {
        continue;
      }
      Optional<JobRef> job = store.job(uid);
      if (job.isEmpty() || jobs.find(job.get()).isPresent()) {
        continue;
      }
      List<PairLedger> pairs = store.pairs(uid);
      boolean done =
          pairs.stream()
              .allMatch(
                  l ->
                      l.inFlightTx() == null
                          && (!l.pending()
                              || !settleable(l.pair())
                              || SettleableStore.forfeited(store, l)));
      if (done) {
        LOG.infof("%s is gone and fully settled: deleting its usage record", job.get());
        store.delete(uid);
        jobs.forget(uid);
      }
    }
  }

  /**
   * How far a pod that still runs is charged, seen at {@code now}: the last whole second at least
   * {@link #VIEW_LAG} ago. The kubelet reports a container's {@code finishedAt} in whole seconds
   * and the operator's view of a pod can trail it, while a settled amount can never go down: an
   * estimate past the end the kubelet later reports would be charged for good. Below it, the final
   * metering charges exactly {@code finishedAt - startedAt}.
   */
  public static Instant runningUntil(Instant now) {
    return now.minus(VIEW_LAG).truncatedTo(ChronoUnit.SECONDS);
  }

  /** How far the operator's view of a pod may trail the kubelet's. */
  static final Duration VIEW_LAG = Duration.ofSeconds(1);

  private static Instant later(Instant a, Instant b) {
    return a.isBefore(b) ? b : a;
  }
}
