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
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * Gives every dispute a deadline ({@code gpupool.trust.dispute-deadline}): a dispute still open
 * that long after it was opened on chain is resolved as no fraud, so frozen earnings never stay
 * frozen because nobody judged them. The contract's own deadline ({@code DISPUTE_DEADLINE}, 30
 * days, after which anyone may end a dispute as no fraud and the verifier may no longer resolve it)
 * is the backstop; this one, shorter, closes disputes with the verifier key well before. A dispute
 * found open past the contract's deadline (the operator was stopped, or its deadline is set longer)
 * is ended with {@code expireDispute} instead, the only call the contract still takes for it,
 * whether or not its job and provider are still known. It reads the disputes from the chain (each
 * pair it metered), so it holds across restarts and also covers disputes opened by hand.
 */
@ApplicationScoped
public class DisputeDeadlines {
  private static final Logger LOG = Logger.getLogger(DisputeDeadlines.class);

  private final BillingService billing;
  private final DisputeResolver resolver;
  private final DisputeExpirer expirer;
  private final ProviderDirectory providers;
  private final Leadership leadership;
  private final Duration deadline;
  private final Clock clock = Clock.systemUTC();
  private volatile ScheduledExecutorService timer;

  public DisputeDeadlines(
      BillingService billing,
      DisputeResolver resolver,
      DisputeExpirer expirer,
      ProviderDirectory providers,
      Leadership leadership,
      GpupoolConfig config) {
    this.billing = billing;
    this.resolver = resolver;
    this.expirer = expirer;
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
   * Open disputes opened {@code deadline} or longer before {@code now}, by pair. Pure; a pair whose
   * dispute cannot be read is skipped (tried again next scan).
   */
  static Map<PairId, DisputeState> overdue(
      Collection<PairId> pairs,
      Function<PairId, Optional<DisputeState>> dispute,
      Instant now,
      Duration deadline) {
    Map<PairId, DisputeState> out = new LinkedHashMap<>();
    for (PairId pair : pairs) {
      Optional<DisputeState> d = dispute.apply(pair);
      if (d.isPresent()
          && d.get().open()
          && d.get().openedAt() > 0
          && !Instant.ofEpochSecond(d.get().openedAt()).plus(deadline).isAfter(now)) {
        out.put(pair, d.get());
      }
    }
    return out;
  }

  /**
   * True when the contract no longer takes a verdict on {@code d}: its chain time has reached the
   * dispute's opening plus the contract's deadline (the contract refuses {@code resolveDispute}
   * from that second on and accepts {@code expireDispute}).
   */
  static boolean pastChainDeadline(DisputeState d, Instant chainTime, Duration chainDeadline) {
    return !Instant.ofEpochSecond(d.openedAt()).plus(chainDeadline).isAfter(chainTime);
  }

  /**
   * Ends every dispute overdue at {@code now} as no fraud, waiting for each: resolved with the
   * verifier key, or expired when the chain's own deadline has passed (no-op while billing is off).
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
    Map<PairId, DisputeState> due = overdue(pairs, p -> read(chain.get(), p), now, deadline);
    if (due.isEmpty()) {
      return;
    }
    Optional<ChainClock> chainClock = chainClock(chain.get());
    for (Map.Entry<PairId, DisputeState> e : due.entrySet()) {
      PairId pair = e.getKey();
      if (chainClock.isPresent()
          && pastChainDeadline(e.getValue(), chainClock.get().now(), chainClock.get().deadline())) {
        DisputeResolution r = await(expirer.expire(pair));
        LOG.infof(
            "dispute on %s open past the contract's deadline of %s: %s",
            pair, chainClock.get().deadline(), r.message());
        continue;
      }
      Optional<JobRef> job = billing.store().job(pair.jobId());
      Optional<String> provider = providerNamed(pair.provider());
      if (job.isEmpty() || provider.isEmpty()) {
        LOG.warnf(
            "dispute on %s is past its deadline of %s but its job or provider is no longer known:"
                + " resolve it by hand (./gpupool chain verifier dispute resolve); past the"
                + " contract's own deadline it is expired here",
            pair, deadline);
        continue;
      }
      DisputeResolution r = await(resolver.resolve(job.get(), provider.get(), false));
      LOG.infof(
          "dispute on %s open longer than its deadline of %s: %s", pair, deadline, r.message());
    }
  }

  /** The chain's time and the contract's dispute deadline, read once a scan. */
  private record ChainClock(Instant now, Duration deadline) {}

  private static Optional<ChainClock> chainClock(TrustChain chain) {
    try {
      return Optional.of(new ChainClock(chain.chainTime(), chain.disputeDeadline()));
    } catch (ChainException e) {
      LOG.warnf(
          "chain time or the contract's dispute deadline not readable (%s): overdue disputes are"
              + " resolved, none expired this scan",
          e.getMessage());
      return Optional.empty();
    }
  }

  private static DisputeResolution await(CompletionStage<DisputeResolution> verdict) {
    return verdict
        .toCompletableFuture()
        .orTimeout(5, TimeUnit.MINUTES)
        .exceptionally(
            e ->
                new DisputeResolution(
                    DisputeResolution.Outcome.FAILED, Optional.empty(), e.getMessage()))
        .join();
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
