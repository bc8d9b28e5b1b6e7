package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.metering.PodLifetime;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.inventory.GpuNode;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.workload.ClusterPods;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
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

  /** What is known of one pod; start, GPUs, price and pair are fixed when it is first seen. */
  private record Tracked(
      String podUid,
      JobRef job,
      PairId pair,
      String providerName,
      String nodeName,
      Instant start,
      Instant end,
      long milliGpus,
      BigInteger price,
      boolean gone) {
    /** Ended at {@code at} unless an end was seen before (the first end seen is kept). */
    Tracked ended(Instant at, boolean deleted) {
      Instant e = end != null ? end : at;
      if (e != null && e.isBefore(start)) {
        e = start;
      }
      return new Tracked(
          podUid, job, pair, providerName, nodeName, start, e, milliGpus, price, gone || deleted);
    }

    /** Ended no later than the start of its node's outage, if there is one. */
    Tracked cappedBy(Optional<Instant> outageStart) {
      if (outageStart.isEmpty()) {
        return this;
      }
      Instant cap = BillableTime.later(outageStart.get(), start);
      Instant e = BillableTime.earlier(end, cap);
      return e.equals(end)
          ? this
          : new Tracked(
              podUid, job, pair, providerName, nodeName, start, e, milliGpus, price, gone);
    }
  }

  private final KubernetesClient client;
  private final ProviderDirectory providers;
  private final NodeInventory nodes;
  private final ConfigMapBillingStore store;
  private final BillingLedger ledger;
  private final Clock clock;
  private final Duration interval;
  private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
  private final NodeOutages outages = new NodeOutages();

  /** Pods found not to be the operator's (by UID): neither metered nor looked up again. */
  private final Set<String> ignored = ConcurrentHashMap.newKeySet();

  /** Pods past the grace and still not in their job's status: counted and logged once each. */
  private final Set<String> notPlacedReported = ConcurrentHashMap.newKeySet();

  private volatile Consumer<PodOwnership.Verdict> onIgnored = v -> {};
  private final Map<String, String> payers = new ConcurrentHashMap<>();
  private volatile Function<JobRef, Optional<HasMetadata>> cachedJobs = job -> Optional.empty();
  private volatile BiFunction<HasMetadata, Budget, Optional<String>> payerResolver =
      (job, budget) -> budget == null ? Optional.empty() : Optional.ofNullable(budget.payer);
  private final List<Runnable> afterMetering = new CopyOnWriteArrayList<>();
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
    this.client = client;
    this.pods = pods;
    this.providers = providers;
    this.nodes = nodes;
    this.store = store;
    this.ledger = new BillingLedger(store);
    this.clock = clock;
    this.interval = interval;
  }

  /**
   * Who pays a job's usage, given the job and its budget: the operator's billing decides it from
   * the job's BillingAccount. Default: the budget's payer address as written.
   */
  /**
   * Where jobs are found before asking the API server: the job controllers' caches, which hold
   * every job whose pods they created (so a new pod costs no GET).
   */
  public void findJobsIn(Function<JobRef, Optional<HasMetadata>> cached) {
    this.cachedJobs = cached;
  }

  public void resolvePayersWith(BiFunction<HasMetadata, Budget, Optional<String>> resolver) {
    this.payerResolver = resolver;
  }

  public BillingLedger ledger() {
    return ledger;
  }

  /** Runs {@code hook} with the reason each time a pod is found not to be the operator's. */
  public void onIgnoredPod(Consumer<PodOwnership.Verdict> hook) {
    this.onIgnored = hook;
  }

  /** Runs {@code hook} after each metering pass (metrics). */
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
    executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "billing-metering");
              t.setDaemon(true);
              return t;
            });
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
    afterMetering.forEach(Runnable::run);
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
        .map(Tracked::nodeName)
        .distinct()
        .forEach(this::nodeSeen);
    List<Tracked> live =
        tracked.values().stream().filter(t -> t.job().uid().equals(jobUid)).toList();
    JobRef job = null;
    for (Tracked t : live) {
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
      PodRecord next = new PodRecord(record, t.providerName(), end != null);
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
    for (Tracked t : live) {
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
   * Take in the latest state of a pod; {@code deletedAt} is set when the pod was deleted. A pod
   * that ended, was deleted or whose node is down is metered at once.
   */
  void observe(Pod pod, Instant deletedAt) {
    String uid = pod.getMetadata().getUid();
    if (uid == null) {
      return;
    }
    if (ignored.contains(uid)) {
      if (deletedAt != null) {
        ignored.remove(uid);
      }
      return;
    }
    Instant now = clock.instant();
    Tracked first = null;
    Tracked before = tracked.get(uid);
    if (before == null) {
      Instant start = BillableTime.start(PodUsage.start(pod), PodUsage.created(pod), now);
      if (start == null) {
        return; // never ran: nothing to bill
      }
      first = admit(pod, uid, start);
      if (first == null) {
        if (deletedAt != null) {
          notPlacedReported.remove(uid);
        }
        return; // not metered (now, or ever when it is not the operator's)
      }
    }
    Instant reported = PodUsage.end(pod, deletedAt);
    // a pod bills only while Running: one that left it without an end bills until seen so
    boolean stopped = reported != null || deletedAt != null || !PodUsage.running(pod);
    Tracked seed = first;
    // merged atomically: an end or a deletion once seen is never undone by a staler event
    Tracked next =
        tracked.compute(
            uid,
            (k, cur) -> {
              Tracked t = cur != null ? cur : seed;
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
            afterMetering.forEach(Runnable::run);
          } catch (RuntimeException e) {
            LOG.warnf(e, "metering %s failed; retried in %s", job, interval);
          }
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
    for (Tracked t : tracked.values()) {
      if (name.equals(t.nodeName()) && t.end() == null) {
        Tracked capped = tracked.computeIfPresent(t.podUid(), (k, cur) -> cur.cappedBy(outage));
        if (capped != null) {
          jobs.add(capped.job());
        }
      }
    }
    jobs.forEach(this::meterSoon);
  }

  /**
   * The record of a pod seen running for the first time, or null when it is not metered: not (or
   * not yet: its job's status may trail the pod's creation) found to be the operator's.
   */
  private Tracked admit(Pod pod, String podUid, Instant start) {
    Optional<JobRef> ref = JobRef.of(pod);
    // a pod already in the usage records was checked when first seen (maybe by a previous run)
    boolean recorded = ref.isPresent() && store.pods(ref.get().uid()).containsKey(podUid);
    HasMetadata job = null;
    // the terms the operator recorded when it placed the pod; never the pod's annotations, which
    // a tenant allowed to edit pods in its namespace could rewrite before this first look
    Optional<PlacedTerms> terms =
        ref.flatMap(r -> store.terms(r.uid(), pod.getMetadata().getName()));
    if (!recorded) {
      job = ref.flatMap(this::find).orElse(null);
      PodOwnership.Verdict verdict = PodOwnership.check(pod, ref.orElse(null), job, terms);
      if (verdict != PodOwnership.Verdict.OWNED) {
        if (verdict == PodOwnership.Verdict.NOT_PLACED) {
          // Asked again at every look, never ignored for good: the job's status may trail the
          // pod's creation, and when a leader died between creating a gang and writing its status
          // the next leader lists the running pods only once it adopts them, minutes later under
          // load. Ignoring them then lost their usage (ChaosE2E). Not metered until listed.
          if (!young(pod, clock.instant()) && notPlacedReported.add(podUid)) {
            onIgnored.accept(verdict);
            LOG.warnf(
                "Pod(%s/%s) carries gpupool labels but its job's status does not list it: not"
                    + " metered unless it is listed",
                pod.getMetadata().getNamespace(), pod.getMetadata().getName());
          }
          return null;
        }
        ignored.add(podUid);
        onIgnored.accept(verdict);
        LOG.warnf(
            "Pod(%s/%s) carries gpupool labels but is not metered: %s",
            pod.getMetadata().getNamespace(), pod.getMetadata().getName(), verdict.reason());
        return null;
      }
    }
    return resolve(pod, podUid, ref.get(), job, start, terms);
  }

  /**
   * How long after its creation a pod may be missing from its job's status before it is counted and
   * logged as not (yet) the operator's: the status is written in the reconcile that creates the
   * pods.
   */
  static final Duration PLACEMENT_GRACE = Duration.ofSeconds(60);

  private static boolean young(Pod pod, Instant now) {
    Instant created = PodUsage.created(pod);
    return created == null || now.isBefore(created.plus(PLACEMENT_GRACE));
  }

  private Tracked resolve(
      Pod pod,
      String podUid,
      JobRef job,
      HasMetadata live,
      Instant start,
      Optional<PlacedTerms> placed) {
    // The provider paid and the terms are the operator's record; a recorded pod keeps the pair and
    // terms of its stored record (meterJob), and only one recorded by an operator that kept no
    // terms falls back to its label.
    String providerName =
        placed
            .map(PlacedTerms::provider)
            .orElse(pod.getMetadata().getLabels().getOrDefault(GpupoolApi.PROVIDER_LABEL, ""));
    PlacementTerms terms =
        placed.map(PlacedTerms::terms).orElse(new PlacementTerms(BigInteger.ZERO, 0));
    Optional<GpuProvider> provider =
        providerName.isEmpty() ? Optional.empty() : providers.provider(providerName);
    if (provider.isEmpty() && !providers.synced()) {
      return null;
    }
    String payout =
        provider
            .map(p -> p.getSpec() == null ? null : p.getSpec().payoutAddress)
            .flatMap(UsageMeter::address)
            .orElse(NO_ADDRESS);
    String nodeName = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
    PairId pair = new PairId(job.uid(), payer(job, live), payout);
    return new Tracked(
        podUid,
        job,
        pair,
        providerName,
        nodeName,
        start,
        null,
        terms.milliGpus(),
        terms.priceWeiPerGpuHour(),
        false);
  }

  /**
   * The payer of a job: its budget's payer, what the store already knows, or {@link #NO_ADDRESS}.
   */
  String payer(JobRef job, HasMetadata live) {
    String known = payers.get(job.uid());
    if (known != null) {
      return known;
    }
    String payer = resolvePayer(job, live);
    // An unknown payer is asked again next time: the job's account may not be read yet.
    if (!NO_ADDRESS.equals(payer)) {
      payers.put(job.uid(), payer);
    }
    return payer;
  }

  private String resolvePayer(JobRef job, HasMetadata known) {
    String recorded =
        store.pairs(job.uid()).stream()
            .map(l -> l.pair().payer())
            .filter(p -> !NO_ADDRESS.equals(p))
            .findFirst()
            .orElse(null);
    if (recorded != null) {
      return recorded;
    }
    Optional<HasMetadata> live = known != null ? Optional.of(known) : find(job);
    if (live.isEmpty()) {
      return NO_ADDRESS;
    }
    Budget b =
        live.get() instanceof TrainingJob tj
            ? tj.getSpec() == null ? null : tj.getSpec().budget
            : ((InferenceJob) live.get()).getSpec() == null
                ? null
                : ((InferenceJob) live.get()).getSpec().budget;
    return payerResolver.apply(live.get(), b).flatMap(UsageMeter::address).orElse(NO_ADDRESS);
  }

  /** The job itself, if it still exists with this UID: from the caches, else the API server. */
  Optional<HasMetadata> find(JobRef job) {
    Optional<HasMetadata> cached = cachedJobs.apply(job).filter(j -> sameJob(job, j));
    return cached.isPresent() ? cached : get(job);
  }

  private static boolean sameJob(JobRef job, HasMetadata found) {
    return job.uid().equals(found.getMetadata().getUid());
  }

  /**
   * The job as the API server has it (a job the caches do not hold may be gone, or not yet seen).
   */
  private Optional<HasMetadata> get(JobRef job) {
    HasMetadata found =
        "InferenceJob".equals(job.kind())
            ? client
                .resources(InferenceJob.class)
                .inNamespace(job.namespace())
                .withName(job.name())
                .get()
            : client
                .resources(TrainingJob.class)
                .inNamespace(job.namespace())
                .withName(job.name())
                .get();
    return Optional.ofNullable(found).filter(j -> sameJob(job, j));
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
      if (job.isEmpty() || find(job.get()).isPresent()) {
        continue;
      }
      List<PairLedger> pairs = store.pairs(uid);
      boolean done =
          pairs.stream()
              .allMatch(l -> l.inFlightTx() == null && (!l.pending() || !settleable(l.pair())));
      if (done) {
        LOG.infof("%s is gone and fully settled: deleting its usage record", job.get());
        store.delete(uid);
        payers.remove(uid);
      }
    }
  }

  private static Optional<String> address(String s) {
    try {
      return s == null
          ? Optional.empty()
          : Optional.of(PairId.normaliseAddress(s.strip(), "address"));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
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
