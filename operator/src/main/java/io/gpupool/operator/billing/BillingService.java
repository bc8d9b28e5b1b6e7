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
import io.gpupool.billing.budget.BudgetService;
import io.gpupool.billing.budget.DryPayerTracker;
import io.gpupool.billing.chain.BillingChain;
import io.gpupool.billing.chain.ChainConfig;
import io.gpupool.billing.chain.DisputeSigner;
import io.gpupool.billing.chain.KeySource;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.billing.chain.Web3jBillingChain;
import io.gpupool.billing.ledger.BillingLedger;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.billing.settlement.OutboxTrustChain;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.Periodic;
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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
  private volatile SettlementService settlement;
  private volatile MeteredBillingChain chain;
  private volatile BudgetService budget;
  private volatile UsageFigures figures;
  private volatile AccountStatusWriter accountStatus;
  private final FundingGate funding;
  private final PlacementPricing pricing;
  private volatile AutoCloseable chainResource;
  private volatile ChainConnection connection;
  private volatile ScheduledExecutorService retries;
  private final List<Runnable> chainConnectedListeners = new CopyOnWriteArrayList<>();
  private volatile TrustChain trust;

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
    meter =
        new UsageMeter(client, pods, providers, nodes, store, clock, settings.meteringInterval());
    meter.resolvePayersWith(this::payer);
    meter.findJobsIn(this::cachedJob);
    meter.onIgnoredPod(metrics::ignoredPod);
    meter.afterMetering(this::refreshMetrics);
    meter.afterMetering(() -> accountStatus.refresh(budget));
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
      String rpc = required(settings.rpcUrl(), "gpupool.billing.rpc-url (GPUPOOL_BILLING_RPC_URL)");
      String contract =
          required(
              settings.contractAddress(),
              "gpupool.billing.contract-address (GPUPOOL_BILLING_CONTRACT_ADDRESS)");
      Web3jBillingChain web3 =
          new Web3jBillingChain(
              ChainConfig.of(rpc, contract, settings.chainId()),
              KeySource.fromEnvironment(KeySource.DEFAULT_ENV));
      chainResource = web3;
      retries = Periodic.daemon("gpupool-chain-connect");
      connection =
          new ChainConnection(
              // Refuse a contract of another interface version before any settlement is sent.
              web3::requireContractVersion,
              (task, wait) -> retries.schedule(task, wait.toMillis(), TimeUnit.MILLISECONDS),
              () -> {
                enableSettlement(web3, settlementConfig());
                LOG.infof(
                    "billing enabled: contract %s on chain %d, settling every %s",
                    contract, settings.chainId(), settings.settlementInterval());
                // Jobs that waited for the chain (escrow, stakes) decide again.
                chainConnectedListeners.forEach(Runnable::run);
              });
      funding.waitFor(connection);
      connection.start();
    } else {
      LOG.info("billing disabled: usage is metered, nothing is settled on chain");
    }
  }

  void stop(@Observes ShutdownEvent ignored) {
    ChainConnection c = connection;
    if (c != null) {
      c.stop();
    }
    if (retries != null) {
      retries.shutdownNow();
    }
    SettlementService s = settlement;
    if (s != null) {
      s.stop();
    }
    if (meter != null) {
      meter.close();
    }
    if (store != null) {
      store.close();
    }
    if (chainResource != null) {
      try {
        chainResource.close();
      } catch (Exception e) {
        LOG.debug("closing the chain client", e);
      }
    }
  }

  /** Settlement settings from configuration. */
  public SettlementConfig settlementConfig() {
    return SettlementConfig.defaults()
        .withInterval(settings.settlementInterval())
        .withBatchSize(settings.batchSize())
        .withReconcileFromBlock(settings.reconcileFromBlock())
        .withConfirmations(settings.confirmations())
        .withRecheckInterval(settings.recheckInterval());
  }

  /**
   * Settle on {@code rawChain} from now on and answer budget questions from it. Called at start-up
   * when billing is enabled; the first settlement round reconciles with the chain's events.
   */
  public synchronized SettlementService enableSettlement(
      BillingChain rawChain, SettlementConfig config) {
    if (settlement != null) {
      throw new IllegalStateException("settlement already running");
    }
    MeteredBillingChain metered = new MeteredBillingChain(rawChain, metrics, clock);
    BillingLedger settleable = new BillingLedger(new SettleableStore(store));
    budget = new BudgetService(metered, settleable);
    funding.settleWith(budget, new DryPayerTracker(settings.suspendGrace(), clock));
    chain = metered;
    settlement = new SettlementService(config, settleable, metered, clock);
    // Disputes are signed by the reporter's key too: through the outbox, so they never take a
    // settlement's nonce and are re-broadcast, replaced and resumed like settlements.
    trust =
        rawChain instanceof TrustChain t
            ? (rawChain instanceof DisputeSigner signer
                ? new OutboxTrustChain(t, signer, settlement)
                : t)
            : null;
    settlement.outbox().onSetAside(this::warnSetAside);
    settlement.onUnexpectedFailure(e -> metrics.unexpectedSettlementFailure());
    settlement.start();
    return settlement;
  }

  /** Stop settling (tests; shutdown does it too). */
  public synchronized void disableSettlement() {
    if (settlement != null) {
      settlement.stop();
    }
    settlement = null;
    budget = null;
    funding.settleWith(null, null);
    chain = null;
    trust = null;
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
    return settlement != null;
  }

  /** Stakes and disputes on the chain settlement runs on (empty while billing is off). */
  public Optional<TrustChain> trustChain() {
    return Optional.ofNullable(trust);
  }

  /** The (payer, job, provider) pairs a job's usage was recorded under. */
  public List<PairId> pairs(String jobUid) {
    ConfigMapBillingStore s = store;
    return s == null ? List.of() : s.pairs(jobUid).stream().map(PairLedger::pair).toList();
  }

  public UsageMeter meter() {
    return meter;
  }

  public ConfigMapBillingStore store() {
    return store;
  }

  public Optional<SettlementService> settlement() {
    return Optional.ofNullable(settlement);
  }

  public Optional<MeteredBillingChain> chain() {
    return Optional.ofNullable(chain);
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

  /** A pair of a job was set aside from settlement: say so on the job, where its owner looks. */
  private void warnSetAside(PairId pair, String reason) {
    Optional<JobRef> ref = store.job(pair.jobId());
    if (ref.isEmpty()) {
      LOG.warnf("settlement set aside %s of an unrecorded job: %s", pair, reason);
      return;
    }
    JobRef j = ref.get();
    Class<? extends HasMetadata> type =
        "InferenceJob".equals(j.kind()) ? InferenceJob.class : TrainingJob.class;
    HasMetadata job = client.resources(type).inNamespace(j.namespace()).withName(j.name()).get();
    if (job == null) {
      LOG.warnf("settlement set aside %s of %s (gone): %s", pair, j, reason);
      return;
    }
    events.record(
        job,
        EventRecorder.WARNING,
        "SettlementSetAside",
        "usage on provider "
            + pair.provider()
            + " is no longer sent for settlement (kept, not lost): "
            + reason);
  }

  private void refreshMetrics() {
    Map<String, Map<String, String>> names = new HashMap<>();
    for (String uid : store.jobUids()) {
      names.put(uid, figures.providerNames(uid));
    }
    metrics.refresh(store.all(), names);
    SettlementService s = settlement;
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

  private static String required(Optional<String> value, String what) {
    return value
        .filter(s -> !s.isBlank())
        .orElseThrow(
            () -> new IllegalStateException(what + " is required when billing is enabled"));
  }
}
