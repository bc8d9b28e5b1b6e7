package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
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
import io.gpupool.billing.settlement.OutboxTrustChain;
import io.gpupool.billing.settlement.SettlementConfig;
import io.gpupool.billing.settlement.SettlementService;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.status.EventRecorder;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Settling metered usage on the billing contract (when {@code gpupool.billing.enabled}): connecting
 * the leader to the contract until it succeeds, then running the {@link SettlementService} over the
 * settleable pairs, answering escrow questions for the {@link FundingGate} and carrying disputes
 * and slashes ({@link TrustChain}) through the same signer. A pair set aside from settlement is
 * reported on its job. {@code connected} runs once the contract answered.
 */
final class ChainSettlement {
  private static final Logger LOG = Logger.getLogger(ChainSettlement.class);

  private final KubernetesClient client;
  private final GpupoolConfig.Billing settings;
  private final ConfigMapBillingStore store;
  private final BillingMetrics metrics;
  private final FundingGate funding;
  private final EventRecorder events;
  private final Clock clock;
  private final Runnable connected;
  private volatile SettlementService settlement;
  private volatile MeteredBillingChain chain;
  private volatile BudgetService budget;
  private volatile TrustChain trust;
  private volatile AutoCloseable chainResource;
  private volatile ChainConnection connection;
  private volatile ScheduledExecutorService retries;

  ChainSettlement(
      KubernetesClient client,
      GpupoolConfig.Billing settings,
      ConfigMapBillingStore store,
      BillingMetrics metrics,
      FundingGate funding,
      EventRecorder events,
      Clock clock,
      Runnable connected) {
    this.client = client;
    this.settings = settings;
    this.store = store;
    this.metrics = metrics;
    this.funding = funding;
    this.events = events;
    this.clock = clock;
    this.connected = connected;
  }

  /**
   * Connect to the configured contract (retried until it answers) and settle on it from then on.
   */
  void connect() {
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
              enable(web3, config());
              LOG.infof(
                  "billing enabled: contract %s on chain %d, settling every %s",
                  contract, settings.chainId(), settings.settlementInterval());
              // Jobs that waited for the chain (escrow, stakes) decide again.
              connected.run();
            });
    funding.waitFor(connection);
    connection.start();
  }

  /** Stops connecting and settling and closes the chain client. */
  void stop() {
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
    if (chainResource != null) {
      try {
        chainResource.close();
      } catch (Exception e) {
        LOG.debug("closing the chain client", e);
      }
    }
  }

  /** Settlement settings from configuration. */
  SettlementConfig config() {
    return SettlementConfig.defaults()
        .withInterval(settings.settlementInterval())
        .withBatchSize(settings.batchSize())
        .withReconcileFromBlock(settings.reconcileFromBlock())
        .withConfirmations(settings.confirmations())
        .withRecheckInterval(settings.recheckInterval());
  }

  /** See {@link BillingService#enableSettlement}. */
  synchronized SettlementService enable(BillingChain rawChain, SettlementConfig config) {
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

  /** See {@link BillingService#disableSettlement}. */
  synchronized void disable() {
    if (settlement != null) {
      settlement.stop();
    }
    settlement = null;
    budget = null;
    funding.settleWith(null, null);
    chain = null;
    trust = null;
  }

  Optional<SettlementService> settlement() {
    return Optional.ofNullable(settlement);
  }

  Optional<MeteredBillingChain> chain() {
    return Optional.ofNullable(chain);
  }

  /** Escrow answers from the chain; null while not settling. */
  BudgetService budget() {
    return budget;
  }

  Optional<TrustChain> trust() {
    return Optional.ofNullable(trust);
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

  private static String required(Optional<String> value, String what) {
    return value
        .filter(s -> !s.isBlank())
        .orElseThrow(
            () -> new IllegalStateException(what + " is required when billing is enabled"));
  }
}
