package io.gpupool.operator.billing;

import io.gpupool.api.v1alpha1.GpuProvider;
import io.gpupool.billing.PairId;
import io.gpupool.billing.chain.ChainException;
import io.gpupool.billing.chain.DisputeState;
import io.gpupool.billing.chain.TrustChain;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.Periodic;
import io.gpupool.operator.inventory.ProviderDirectory;
import io.gpupool.operator.leader.Leadership;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Gives every dispute a deadline ({@code gpupool.trust.dispute-deadline}): a dispute still open
 * that long after it was opened on chain is resolved as no fraud, so frozen earnings never stay
 * frozen because nobody judged them. The contract's own deadline ({@code DISPUTE_DEADLINE}, 30
 * days, after which anyone may end a dispute as no fraud and the verifier may no longer resolve it)
 * is the backstop; this one, shorter, closes disputes with the verifier key well before. It reads
 * the disputes from the chain (each pair it metered), so it holds across restarts and also covers
 * disputes opened by hand.
 */
@ApplicationScoped
public class DisputeDeadlines {
  private static final Logger LOG = Logger.getLogger(DisputeDeadlines.class);

  private final BillingService billing;
  private final DisputeResolver resolver;
  private final ProviderDirectory providers;
  private final Leadership leadership;
  private final Duration deadline;
  private final Clock clock = Clock.systemUTC();
  private volatile ScheduledExecutorService timer;

  public DisputeDeadlines(
      BillingService billing,
      DisputeResolver resolver,
      ProviderDirectory providers,
      Leadership leadership,
      GpupoolConfig config) {
    this.billing = billing;
    this.resolver = resolver;
    this.providers = providers;
    this.leadership = leadership;
    this.deadline = config.trust().disputeDeadline();
  }

  void start(@Observes StartupEvent ignored) {
    if (deadline.isZero() || deadline.isNegative()) {
      return;
    }
    leadership.whenLeading(
        () -> {
          timer = Periodic.daemon("gpupool-dispute-deadlines");
          Duration every = scanInterval(deadline);
          Periodic.every(
              timer, every, every, "dispute deadlines", () -> resolveOverdue(clock.instant()));
        });
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  /** A tenth of the deadline, between 1 s and 1 min: a dispute is closed soon after it is due. */
  static Duration scanInterval(Duration deadline) {
    long millis = Math.max(1_000, Math.min(60_000, deadline.toMillis() / 10));
    return Duration.ofMillis(millis);
  }

  /**
   * Pairs whose dispute is open and was opened {@code deadline} or longer before {@code now}. Pure;
   * a pair whose dispute cannot be read is skipped (tried again next scan).
   */
  static List<PairId> overdue(
      Collection<PairId> pairs,
      Function<PairId, Optional<DisputeState>> dispute,
      Instant now,
      Duration deadline) {
    List<PairId> out = new ArrayList<>();
    for (PairId pair : pairs) {
      Optional<DisputeState> d = dispute.apply(pair);
      if (d.isPresent()
          && d.get().open()
          && d.get().openedAt() > 0
          && !Instant.ofEpochSecond(d.get().openedAt()).plus(deadline).isAfter(now)) {
        out.add(pair);
      }
    }
    return out;
  }

  /**
   * Resolves as no fraud every dispute overdue at {@code now}, waiting for each verdict (no-op
   * while billing is off).
   */
  public void resolveOverdue(Instant now) {
    Optional<TrustChain> chain = billing.trustChain();
    if (chain.isEmpty() || billing.store() == null) {
      return;
    }
    List<PairId> pairs =
        billing.store().all().stream()
            .filter(l -> l.settledWei().signum() > 0)
            .map(PairLedger::pair)
            .toList();
    for (PairId pair : overdue(pairs, p -> read(chain.get(), p), now, deadline)) {
      Optional<JobRef> job = billing.store().job(pair.jobId());
      Optional<String> provider = providerNamed(pair.provider());
      if (job.isEmpty() || provider.isEmpty()) {
        LOG.warnf(
            "dispute on %s is past its deadline of %s but its job or provider is no longer known:"
                + " resolve it by hand (./gpupool chain verifier dispute resolve)",
            pair, deadline);
        continue;
      }
      DisputeResolution r =
          resolver
              .resolve(job.get(), provider.get(), false)
              .toCompletableFuture()
              .orTimeout(5, TimeUnit.MINUTES)
              .exceptionally(
                  e ->
                      new DisputeResolution(
                          DisputeResolution.Outcome.FAILED, Optional.empty(), e.getMessage()))
              .join();
      LOG.infof(
          "dispute on %s open longer than its deadline of %s: %s", pair, deadline, r.message());
    }
  }

  private static Optional<DisputeState> read(TrustChain chain, PairId pair) {
    try {
      return Optional.of(chain.dispute(pair));
    } catch (ChainException e) {
      return Optional.empty();
    }
  }

  private Optional<String> providerNamed(String address) {
    for (GpuProvider p : providers.all()) {
      if (p.getSpec() != null
          && p.getSpec().payoutAddress != null
          && p.getSpec().payoutAddress.equalsIgnoreCase(address)) {
        return Optional.of(p.getMetadata().getName());
      }
    }
    return Optional.empty();
  }
}
