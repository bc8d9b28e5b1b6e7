package io.gpupool.operator.billing;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * The one routine by which the operator acts on fraud it proved itself (a hardware challenge
 * answered wrongly, a training interval a referee recomputed, a replica answering canaries unlike a
 * majority of providers): open a dispute over what the job paid the provider through the {@link
 * DisputeFiler}, and when one opened, resolve it as fraud through the {@link DisputeResolver} (the
 * frozen earnings go back to the payer, the stake is slashed, the whistleblower rewarded). The
 * verdict needs no second look: the operator recomputed or compared the work itself, so the
 * evidence is a fact, not a suspicion.
 *
 * <p>Before anything is filed, the provider's usage of the job not yet settled, and all metered
 * from then on, is forfeited ({@link UsageForfeits}): the settlement loop stops paying the pair
 * there and then. A settlement of the pair signed before the mark still lands: the chain's filer
 * waits for it to be confirmed before it reads what the pair paid, so the dispute freezes it too
 * ({@code ChainDisputes}).
 *
 * <p>Like the filer it never blocks and never completes exceptionally: a resolver that throws is
 * reported as a verdict not given, in the outcome's words.
 */
@ApplicationScoped
public class FraudDisputes {
  private final DisputeFiler filer;
  private final DisputeResolver resolver;
  private final StakeSlasher slasher;
  private final UsageForfeits forfeits;

  @Inject
  public FraudDisputes(
      DisputeFiler filer, DisputeResolver resolver, StakeSlasher slasher, UsageForfeits forfeits) {
    this.filer = filer;
    this.resolver = resolver;
    this.slasher = slasher;
    this.forfeits = forfeits;
  }

  /** Forfeiting nothing (tests of the dispute and slashing paths). */
  public FraudDisputes(DisputeFiler filer, DisputeResolver resolver, StakeSlasher slasher) {
    this(filer, resolver, slasher, UsageForfeits.NONE);
  }

  /**
   * Without a slasher: fraud with nothing to dispute goes unpunished (tests of the dispute path).
   */
  public FraudDisputes(DisputeFiler filer, DisputeResolver resolver) {
    this(filer, resolver, null);
  }

  /**
   * What became of one fraud dispute.
   *
   * @param filing how the filing went
   * @param verdict the fraud verdict's resolution, present only when the dispute opened
   */
  public record Outcome(
      DisputeFiling filing,
      Optional<DisputeResolution> verdict,
      Optional<StakeSlashing> slashing,
      Optional<String> forfeit) {
    public Outcome {
      Objects.requireNonNull(filing, "filing");
      Objects.requireNonNull(verdict, "verdict");
      Objects.requireNonNull(slashing, "slashing");
      Objects.requireNonNull(forfeit, "forfeit");
    }

    public Outcome(
        DisputeFiling filing,
        Optional<DisputeResolution> verdict,
        Optional<StakeSlashing> slashing) {
      this(filing, verdict, slashing, Optional.empty());
    }

    public Outcome(DisputeFiling filing, Optional<DisputeResolution> verdict) {
      this(filing, verdict, Optional.empty());
    }

    Outcome forfeiting(Optional<String> line) {
      return new Outcome(filing, verdict, slashing, line);
    }

    /** True when the fraud cost the provider: a fraud verdict given, or its stake slashed. */
    public boolean punished() {
      return proven()
          || slashing.map(x -> x.outcome() == StakeSlashing.Outcome.SLASHED).orElse(false);
    }

    /** True when the dispute opened and the fraud verdict was given on chain. */
    public boolean proven() {
      return verdict.map(r -> r.outcome() == DisputeResolution.Outcome.RESOLVED).orElse(false);
    }

    /** One line for events: the filing, its transaction and, when it opened, the verdict. */
    public String describe() {
      String filed =
          filing.outcome().name().toLowerCase(Locale.ROOT)
              + filing.txHash().map(tx -> " in " + tx).orElse("")
              + " ("
              + filing.message()
              + ")";
      String slashed =
          slashing.map(x -> "; " + x.describe()).orElse("") + forfeit.map(f -> "; " + f).orElse("");
      return verdict
              .map(
                  r ->
                      filed
                          + "; "
                          + (r.outcome() == DisputeResolution.Outcome.RESOLVED
                              ? "fraud verdict"
                              : "fraud verdict not given ("
                                  + r.outcome().name().toLowerCase(Locale.ROOT)
                                  + ")")
                          + r.txHash().map(tx -> " in " + tx).orElse("")
                          + ": "
                          + r.message())
              .orElse(filed)
          + slashed;
    }
  }

  /**
   * Disputes what {@code job} paid {@code provider} and, when the dispute opened, resolves it as
   * fraud.
   *
   * @param evidence hash of the evidence the caller keeps (recorded on chain)
   * @param reason a short reason for events and logs (not sent on chain)
   */
  public CompletionStage<Outcome> prove(
      JobRef job, String provider, EvidenceHash evidence, String reason) {
    Optional<String> forfeit;
    try {
      forfeit = forfeits.forfeit(job, provider, reason);
    } catch (RuntimeException e) {
      // The dispute and the slash must not wait on the usage record: they go ahead, and the
      // job's event says what failed.
      forfeit = Optional.of("forfeiting its usage failed: " + e.getMessage());
    }
    Optional<String> forfeited = forfeit;
    return disputeAndResolve(job, provider, evidence, reason)
        .thenApply(o -> o.forfeiting(forfeited));
  }

  private CompletionStage<Outcome> disputeAndResolve(
      JobRef job, String provider, EvidenceHash evidence, String reason) {
    return attempt(() -> filer.open(job, provider, evidence, reason))
        .handle(
            (filing, error) ->
                filing != null
                    ? filing
                    : DisputeFiling.notOpened(
                        DisputeFiling.Outcome.FAILED, "the filer failed: " + why(error)))
        .thenCompose(
            filing -> {
              if (filing.outcome() != DisputeFiling.Outcome.OPENED) {
                return CompletableFuture.completedFuture(new Outcome(filing, Optional.empty()));
              }
              return resolve(job, provider).thenApply(r -> new Outcome(filing, Optional.of(r)));
            });
  }

  /**
   * {@link #prove}, and when there was nothing to dispute (the provider was not paid for the job
   * yet, or its earnings left the challenge window) the provider's stake answers for the fraud:
   * slashed once through the {@link StakeSlasher}, as for a wrong hardware-challenge answer. A
   * cheat caught before its first settlement must not go unpunished.
   */
  public CompletionStage<Outcome> proveOrSlash(
      JobRef job, String provider, EvidenceHash evidence, String reason) {
    return prove(job, provider, evidence, reason)
        .thenCompose(
            o -> {
              if (slasher == null
                  || o.filing().outcome() != DisputeFiling.Outcome.NOTHING_TO_DISPUTE) {
                return CompletableFuture.completedFuture(o);
              }
              return attempt(() -> slasher.slash(provider, evidence, reason))
                  .handle(
                      (x, error) ->
                          x != null
                              ? x
                              : new StakeSlashing(
                                  StakeSlashing.Outcome.FAILED,
                                  Optional.empty(),
                                  "the slasher failed: " + why(error)))
                  .thenApply(
                      x -> new Outcome(o.filing(), o.verdict(), Optional.of(x), o.forfeit()));
            });
  }

  private CompletionStage<DisputeResolution> resolve(JobRef job, String provider) {
    return attempt(() -> resolver.resolve(job, provider, true))
        .handle(
            (r, error) ->
                r != null
                    ? r
                    : new DisputeResolution(
                        DisputeResolution.Outcome.FAILED,
                        Optional.empty(),
                        "the resolver failed: " + why(error)));
  }

  /** A port that throws instead of failing its stage is treated as one that failed its stage. */
  private static <T> CompletionStage<T> attempt(Supplier<CompletionStage<T>> call) {
    try {
      return call.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private static String why(Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    return cause == null ? "no answer" : String.valueOf(cause.getMessage());
  }
}
