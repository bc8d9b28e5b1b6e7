package io.gpupool.operator.billing;

import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.operator.config.DaemonThreads;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * The {@link DisputeFiler} and {@link DisputeResolver} the operator runs with: disputes go to the
 * billing contract with the operator's key (its verifier role), one at a time on a thread of their
 * own. Counts disputes by step and outcome ({@code gpupool_disputes_total}).
 */
@ApplicationScoped
public class ChainDisputeFiler
    implements DisputeFiler, DisputeResolver, DisputeExpirer, StakeSlasher {
  private static final Logger LOG = Logger.getLogger(ChainDisputeFiler.class);

  private final BillingService billing;
  private final ProviderDirectory providers;
  private final GpupoolConfig.Trust settings;
  private final String symbol;
  private final MeterRegistry registry;
  private final ExecutorService executor =
      Executors.newSingleThreadExecutor(DaemonThreads.named("gpupool-disputes"));

  public ChainDisputeFiler(
      BillingService billing,
      ProviderDirectory providers,
      GpupoolConfig config,
      MeterRegistry registry) {
    this.billing = billing;
    this.providers = providers;
    this.settings = config.trust();
    this.symbol = config.billing().tokenSymbol();
    this.registry = registry;
  }

  void stop(@Observes ShutdownEvent ignored) {
    executor.shutdownNow();
  }

  @Override
  public CompletionStage<DisputeFiling> open(
      JobRef job, String provider, EvidenceHash evidence, String reason) {
    Optional<ChainDisputes> disputes = disputes();
    if (disputes.isEmpty()) {
      return CompletableFuture.completedFuture(
              DisputeFiling.notOpened(
                  DisputeFiling.Outcome.BILLING_OFF,
                  "billing is off: no dispute against " + provider + " over " + job))
          .whenComplete((f, e) -> count("open", f.outcome().name(), f.message()));
    }
    return CompletableFuture.supplyAsync(
            () -> disputes.get().open(job, provider, evidence, reason), executor)
        .exceptionally(
            e ->
                DisputeFiling.notOpened(
                    DisputeFiling.Outcome.FAILED,
                    "no dispute against " + provider + " over " + job + ": " + e.getMessage()))
        .whenComplete((f, e) -> count("open", f.outcome().name(), f.message()));
  }

  @Override
  public CompletionStage<DisputeResolution> resolve(JobRef job, String provider, boolean fraud) {
    Optional<ChainDisputes> disputes = disputes();
    if (disputes.isEmpty()) {
      return CompletableFuture.completedFuture(
          new DisputeResolution(
              DisputeResolution.Outcome.BILLING_OFF,
              Optional.empty(),
              "billing is off: no dispute against " + provider + " over " + job));
    }
    return CompletableFuture.supplyAsync(
            () -> disputes.get().resolve(job, provider, fraud), executor)
        .exceptionally(
            e ->
                new DisputeResolution(
                    DisputeResolution.Outcome.FAILED,
                    Optional.empty(),
                    "resolving the dispute against " + provider + " failed: " + e.getMessage()))
        .whenComplete(
            (r, e) ->
                count(
                    "resolve",
                    r.outcome() == DisputeResolution.Outcome.RESOLVED
                        ? (fraud ? "FRAUD" : "NO_FRAUD")
                        : r.outcome().name(),
                    r.message()));
  }

  @Override
  public CompletionStage<DisputeResolution> expire(PairId pair) {
    Optional<ChainDisputes> disputes = disputes();
    if (disputes.isEmpty()) {
      return CompletableFuture.completedFuture(
          new DisputeResolution(
              DisputeResolution.Outcome.BILLING_OFF,
              Optional.empty(),
              "billing is off: no dispute on " + pair + " to expire"));
    }
    return CompletableFuture.supplyAsync(() -> disputes.get().expire(pair), executor)
        .exceptionally(
            e ->
                new DisputeResolution(
                    DisputeResolution.Outcome.FAILED,
                    Optional.empty(),
                    "expiring the dispute on " + pair + " failed: " + e.getMessage()))
        .whenComplete(
            (r, e) ->
                count(
                    "expire",
                    r.outcome() == DisputeResolution.Outcome.RESOLVED
                        ? "expired"
                        : r.outcome().name(),
                    r.message()));
  }

  @Override
  public CompletionStage<StakeSlashing> slash(
      String provider, EvidenceHash evidence, String reason) {
    Optional<ChainDisputes> disputes = disputes();
    if (disputes.isEmpty()) {
      return CompletableFuture.completedFuture(
          new StakeSlashing(
              StakeSlashing.Outcome.BILLING_OFF,
              Optional.empty(),
              "billing is off: " + provider + "'s stake not slashed"));
    }
    return CompletableFuture.supplyAsync(
            () -> disputes.get().slash(provider, evidence, reason), executor)
        .exceptionally(
            e ->
                new StakeSlashing(
                    StakeSlashing.Outcome.FAILED,
                    Optional.empty(),
                    "slashing " + provider + "'s stake failed: " + e.getMessage()))
        .whenComplete((r, e) -> count("slash", r.outcome().name(), r.message()));
  }

  private Optional<ChainDisputes> disputes() {
    Optional<TrustChain> chain = billing.trustChain();
    return chain.map(
        c ->
            new ChainDisputes(
                c,
                billing::pairs,
                name ->
                    providers
                        .provider(name)
                        .map(p -> p.getSpec() == null ? null : p.getSpec().payoutAddress),
                pair ->
                    billing.settlement().map(s -> s.unconfirmedSettlements(pair)).orElse(Set.of()),
                settings.whistleblowerAddress(),
                settings.disputeTimeout(),
                Duration.ofMillis(250),
                symbol));
  }

  private void count(String step, String outcome, String message) {
    Counter.builder("gpupool.disputes")
        .description("Disputes the operator opened or resolved on chain, by step and outcome")
        .tag("step", step)
        .tag("outcome", outcome.toLowerCase(Locale.ROOT))
        .register(registry)
        .increment();
    LOG.info(message);
  }
}
