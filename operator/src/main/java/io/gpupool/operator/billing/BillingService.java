package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.Budget;
import io.gpupool.api.v1alpha1.Earnings;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.PlacementPolicy;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.Usage;
import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.NodeInventory;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.inventory.SpeedRatings;
import io.gpupool.operator.leader.Leadership;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.operator.workload.ClusterPods;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.Cache;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * The operator's billing: meters every gpupool pod into usage ConfigMaps (always), settles on chain
 * and gates jobs on their payer's escrow (when {@code gpupool.billing.enabled}). Reconcilers read
 * {@link #usage}, {@link #earnings} and ask {@link #admit} / {@link #whileRunning}.
 */
@ApplicationScoped
public class BillingService {
  private static final Logger LOG = Logger.getLogger(BillingService.class);

  private final KubernetesClient client;
  private final ProviderDirectory providers;
  private final NodeInventory nodes;
  private final GpupoolConfig.Billing settings;
  private final MeterRegistry registry;
  private final Clock clock = Clock.systemUTC();

  private final Leadership leadership;
  private final ClusterPods pods;
  private final ClusterWatches watches;
  private final BillingAccounts accounts;
  private final EventRecorder events;
  private final List<Runnable> meteringListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<JobRef>> podEndListeners = new CopyOnWriteArrayList<>();
  private final Map<String, Cache<? extends HasMetadata>> jobCaches = new ConcurrentHashMap<>();
  private volatile ConfigMapBillingStore store;
  private volatile UsageMeter meter;
  private volatile BillingMetrics metrics;
  private volatile UsageFigures figures;
  private volatile AccountStatusWriter accountStatus;
  private volatile ChainSettlement settling;
  private final List<Runnable> chainConnectedListeners = new CopyOnWriteArrayList<>();
  private final FundingGate funding;
  private final PlacementPricing pricing;

  public BillingService(
      KubernetesClient client,
      ProviderDirectory providers,
      NodeInventory nodes,
      ClusterPods pods,
      GpupoolConfig config,
      MeterRegistry registry,
      Leadership leadership,
      BillingAccounts accounts,
      EventRecorder events,
      SpeedRatings speeds,
      ClusterWatches watches) {
    this.watches = watches;
    this.client = client;
    this.events = events;
    this.pods = pods;
    this.accounts = accounts;
    this.leadership = leadership;
    this.providers = providers;
    this.nodes = nodes;
    this.settings = config.billing();
    this.registry = registry;
    this.funding = new FundingGate(accounts, settings, clock, this::usage);
    this.pricing = new PlacementPricing(providers, nodes, speeds);
  }

  /**
   * The job controllers' caches by kind: the meter finds a new pod's job there, not with a GET to
   * the API server per pod.
   */
  public void readJobsFrom(String kind, Cache<? extends HasMetadata> jobs) {
    jobCaches.put(kind, jobs);
  }

  private Optional<HasMetadata> cachedJob(JobRef job) {
    Cache<? extends HasMetadata> jobs = jobCaches.get(job.kind());
    return jobs == null
        ? Optional.empty()
        : jobs.get(new ResourceID(job.name(), job.namespace())).map(HasMetadata.class::cast);
  }

  /** Runs {@code listener} after each metering: a job's cost may have reached its cap. */
  public void afterMetering(Runnable listener) {
    meteringListeners.add(listener);
  }

  /**
   * Runs {@code listener} with a job once the end of one of its pods is metered: its usage changed
   * without a cluster event, also after it finished.
   */
  public void onPodEndMetered(Consumer<JobRef> listener) {
    podEndListeners.add(listener);
  }

  /**
   * Has {@code meter} bill a pod its job's status lists but that has no terms record (placed by an
   * operator of an earlier version) at terms rebuilt from this operator's view ({@link
   * PlacementPricing#termsAtAdoption}).
   */
  public void rebuildTermsOnAdoption(UsageMeter meter) {
    meter.rebuildTermsWith(this::termsAtAdoption);
  }

  /**
   * The terms {@code pod} of {@code job} is billed at: those the operator recorded when it placed
   * it, else those it would rebuild for it now from its own view (not recorded). Never what the
   * pod's annotations say.
   */
  public Optional<PlacedTerms> placedTerms(Pod pod, HasMetadata job) {
    Optional<PlacedTerms> recorded =
        JobRef.of(pod).flatMap(ref -> store.terms(ref.uid(), pod.getMetadata().getName()));
    return recorded.isPresent() ? recorded : termsAtAdoption(pod, job);
  }

  private Optional<PlacedTerms> termsAtAdoption(Pod pod, HasMetadata job) {
    PlacementPolicy placement =
        job instanceof TrainingJob tj
            ? tj.getSpec() == null ? null : tj.getSpec().placement
            : job instanceof InferenceJob ij
                ? ij.getSpec() == null ? null : ij.getSpec().placement
                : null;
    return pricing.termsAtAdoption(pod, placement);
  }

  /** How often running pods are metered: how often a running job's cost can change. */
  public Duration meteringInterval() {
    return settings.meteringInterval();
  }

  void start(@Observes StartupEvent ignored) {
    metrics = new BillingMetrics(registry);
    store =
        new ConfigMapBillingStore(client, usageNamespace(settings, client.getNamespace()), watches);
    store.start();
    figures = new UsageFigures(store, settings.tokenSymbol());
    accountStatus = new AccountStatusWriter(client, accounts, store, clock);
    settling =
        new ChainSettlement(
            client,
            settings,
            store,
            metrics,
            funding,
            events,
            clock,
            () -> chainConnectedListeners.forEach(Runnable::run));
    meter =
        new UsageMeter(client, pods, providers, nodes, store, clock, settings.meteringInterval());
    meter.resolvePayersWith(this::payer);
    meter.findJobsIn(this::cachedJob);
    rebuildTermsOnAdoption(meter);
    meter.onIgnoredPod(metrics::ignoredPod);
    meter.afterMetering(this::refreshMetrics);
    meter.afterMetering(() -> accountStatus.refresh(settling.budget()));
    meter.afterMetering(() -> meteringListeners.forEach(Runnable::run));
    meter.onPodEndMetered(job -> podEndListeners.forEach(l -> l.accept(job)));
    providers.onChange(metrics::knowProvider);
    // Usage records and settlements are written by one replica only: a follower would race the
    // leader's cumulative figures and nonces. A follower starts both when it takes over.
    leadership.whenLeading(this::startWriting);
  }

  private void startWriting() {
    meter.start();
    if (settings.enabled()) {
      settling.connect();
    } else {
      LOG.info("billing disabled: usage is metered, nothing is settled on chain");
    }
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (settling != null) {
      settling.stop();
    }
    if (meter != null) {
      meter.close();
    }
    if (store != null) {
      store.close();
    }
  }

  /** Settlement settings from configuration. */
  public SettlementConfig settlementConfig() {
    return settling.config();
  }

  /**
   * Settle on {@code rawChain} from now on and answer budget questions from it. Called at start-up
   * when billing is enabled; the first settlement round reconciles with the chain's events.
   */
  public SettlementService enableSettlement(BillingChain rawChain, SettlementConfig config) {
    return settling.enable(rawChain, config);
  }

  /** Stop settling (tests; shutdown does it too). */
  public void disableSettlement() {
    settling.disable();
  }

  /** Runs {@code listener} when who may charge whom may have changed ({@link BillingAccounts}). */
  public void onAccountsChange(Runnable listener) {
    accounts.onChange(listener);
  }

  /**
   * Runs {@code listener} once this leader has connected to the billing contract: escrow and stakes
   * can be read from then on, so jobs that waited for them decide again.
   */
  public void onChainConnected(Runnable listener) {
    chainConnectedListeners.add(listener);
  }

  /** True when usage is settled on chain and jobs are gated on their payer's escrow. */
  public boolean enabled() {
    return settlement().isPresent();
  }

  /** Stakes and disputes on the chain settlement runs on (empty while billing is off). */
  public Optional<TrustChain> trustChain() {
    ChainSettlement c = settling;
    return c == null ? Optional.empty() : c.trust();
  }

  /** The (payer, job, provider) pairs a job's usage was recorded under. */
  public List<PairId> pairs(String jobUid) {
    ConfigMapBillingStore s = store;
    return s == null ? List.of() : s.pairs(jobUid).stream().map(PairLedger::pair).toList();
  }

  public UsageMeter meter() {
    return meter;
  }

  /**
   * Meters {@code pods} of {@code job} and stores their usage so far before the operator deletes
   * them ({@link UsageMeter#removing}); nothing while no meter runs (this replica does not lead
   * yet).
   */
  public void beforeDeleting(HasMetadata job, List<Pod> pods) {
    UsageMeter m = meter;
    if (m != null && !pods.isEmpty()) {
      m.removing(job, pods);
    }
  }

  public ConfigMapBillingStore store() {
    return store;
  }

  public Optional<SettlementService> settlement() {
    ChainSettlement c = settling;
    return c == null ? Optional.empty() : c.settlement();
  }

  public Optional<MeteredBillingChain> chain() {
    ChainSettlement c = settling;
    return c == null ? Optional.empty() : c.chain();
  }

  /**
   * Cumulative usage of a job (by UID) for its status: GPU-seconds, cost and settled amount in
   * token units, and per provider in wei. Empty when nothing was metered for it.
   */
  public Optional<Usage> usage(String jobUid) {
    return figures.usage(jobUid);
  }

  /** What a GpuProvider (by name) has earned over every job the store still holds. */
  public Earnings earnings(String providerName) {
    return figures.earnings(providerName);
  }

  /**
   * May this job start? Its payer's escrow, less what it already owes, must cover {@code
   * weiPerHour} for one settlement interval. Jobs without budget, and every job while billing is
   * disabled, may.
   */
  public Admission admit(TrainingJob job, BigInteger weiPerHour) {
    return funding.admit(job, job.getSpec() == null ? null : job.getSpec().budget, weiPerHour);
  }

  /** {@link #admit(TrainingJob, BigInteger)} for an InferenceJob. */
  public Admission admit(InferenceJob job, BigInteger weiPerHour) {
    return funding.admit(job, job.getSpec() == null ? null : job.getSpec().budget, weiPerHour);
  }

  /**
   * Must a running job be stopped? When its namespace no longer may charge its account (unbound: at
   * once, its usage so far is kept and settled), or its payer's escrow has been dry past the grace
   * period.
   */
  public Admission whileRunning(TrainingJob job) {
    return funding.whileRunning(job, job.getSpec() == null ? null : job.getSpec().budget);
  }

  /** {@link #whileRunning(TrainingJob)} for an InferenceJob. */
  public Admission whileRunning(InferenceJob job) {
    return funding.whileRunning(job, job.getSpec() == null ? null : job.getSpec().budget);
  }

  /**
   * The payer that settles {@code job}'s usage: its account's, when its namespace may charge it;
   * empty when billing is off, the job runs unbilled or is refused.
   */
  public Optional<String> payer(HasMetadata job, Budget jobBudget) {
    return funding.payer(job, jobBudget);
  }

  /** May a job paid by {@code payer} (null: no budget) start at {@code weiPerHour}? */
  public Admission admit(String payer, BigInteger weiPerHour) {
    return funding.admit(payer, weiPerHour);
  }

  /**
   * Must a running job paid by {@code payer} be suspended? Only once its escrow has been dry for
   * the grace period ({@code gpupool.billing.suspend-grace}); an unreachable chain never suspends.
   */
  public Admission whileRunning(String payer) {
    return funding.whileRunning(payer);
  }

  /**
   * Cost per hour of {@code milliGpus} at a provider's listed price for {@code product}, rounded
   * up; empty when the provider does not price it.
   */
  public Optional<BigInteger> weiPerHour(String provider, String product, long milliGpus) {
    return pricing.weiPerHour(provider, product, milliGpus);
  }

  /**
   * {@code pods} about to be created for a job with their billing terms ({@link PlacementTerms},
   * see {@link PlacementPricing#withPlacementTerms}) recorded in the job's usage record, which
   * metering bills from, and written on the pods for information. Throws when the record cannot be
   * written: the pods must then not be created (they would run unbilled).
   */
  public List<Pod> withPlacementTerms(List<Pod> pods, PlacementPolicy placement) {
    List<Pod> priced = pricing.withPlacementTerms(pods, placement);
    Map<JobRef, Map<String, PlacedTerms>> byJob = new HashMap<>();
    for (Pod pod : priced) {
      Optional<JobRef> job = JobRef.of(pod);
      String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      Optional<PlacementTerms> terms = PlacementTerms.readFrom(pod); // the operator's own object
      String provider = pod.getMetadata().getLabels().getOrDefault(GpupoolApi.PROVIDER_LABEL, "");
      if (job.isPresent() && node != null && terms.isPresent()) {
        byJob
            .computeIfAbsent(job.get(), j -> new HashMap<>())
            .put(pod.getMetadata().getName(), new PlacedTerms(node, provider, terms.get()));
      }
    }
    byJob.forEach(store::putTerms);
    return priced;
  }

  /**
   * The namespace usage ConfigMaps live in: the setting, else {@code POD_NAMESPACE}, else the
   * client's namespace ({@code clientNamespace}: in a pod, its service account's), else {@code
   * default}.
   */
  static String usageNamespace(GpupoolConfig.Billing settings, String clientNamespace) {
    return settings
        .namespace()
        .filter(s -> !s.isBlank())
        .or(() -> Optional.ofNullable(System.getenv("POD_NAMESPACE")).filter(s -> !s.isBlank()))
        .or(() -> Optional.ofNullable(clientNamespace).filter(s -> !s.isBlank()))
        .orElse("default");
  }

  private void refreshMetrics() {
    Map<String, Map<String, String>> names = new HashMap<>();
    for (String uid : store.jobUids()) {
      names.put(uid, figures.providerNames(uid));
    }
    // A forfeited pair's usage is not owed: it is neither backlog nor cost charged.
    metrics.refresh(
        store.all().stream()
            .map(l -> SettleableStore.forfeited(store, l) ? SettleableStore.withNothingOwed(l) : l)
            .toList(),
        names);
    SettlementService s = settlement().orElse(null);
    if (s != null) {
      Duration age =
          s.oldestUnconfirmedSince()
              .map(since -> Duration.between(since, clock.instant()))
              .orElse(Duration.ZERO);
      metrics.settlementHealth(s.outbox().setAside().size(), age);
      metrics.heldUnregistered(s.heldForRegistration().size());
      Map<String, Integer> byJob = new TreeMap<>();
      for (PairId p : s.outbox().setAside().keySet()) {
        String job =
            store
                .job(p.jobId())
                .map(j -> j.kind() + "/" + j.namespace() + "/" + j.name())
                .orElse(p.jobId());
        byJob.merge(job, 1, Integer::sum);
      }
      metrics.setAsideByJob(byJob);
    }
  }
}
