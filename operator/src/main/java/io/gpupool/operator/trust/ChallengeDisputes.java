package io.gpupool.operator.trust;

import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.DisputeFiling;
import io.gpupool.operator.billing.EvidenceHash;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.billing.StakeSlasher;
import io.gpupool.operator.inventory.ProviderDirectory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Turns a wrong challenge answer into disputes: one per job the provider was paid for (its metered
 * pairs), each carrying the hash of the challenge evidence, filed and resolved as fraud by {@link
 * FraudDisputes} (the operator recomputed the rounds it checked, so a mismatch is a fact). When no
 * dispute opens (the node never ran paid work, as the sandbox's bargain-h100-hub caught on joining,
 * or its earnings left the challenge window), the provider's stake is slashed directly through the
 * {@link StakeSlasher}: a wrong answer always costs stake. What happened is reported in words for
 * the provider's event.
 */
@ApplicationScoped
public class ChallengeDisputes {
  private final FraudDisputes fraud;
  private final StakeSlasher slasher;
  private final Function<String, List<JobRef>> jobsPaying;

  @Inject
  public ChallengeDisputes(
      FraudDisputes fraud,
      StakeSlasher slasher,
      BillingService billing,
      ProviderDirectory providers) {
    this(fraud, slasher, provider -> jobsPaying(provider, billing, providers));
  }

  /**
   * @param jobsPaying GpuProvider name to the jobs whose metered usage paid it
   */
  ChallengeDisputes(
      FraudDisputes fraud, StakeSlasher slasher, Function<String, List<JobRef>> jobsPaying) {
    this.fraud = fraud;
    this.slasher = slasher;
    this.jobsPaying = jobsPaying;
  }

  /** One job's line for the report, and whether its dispute opened. */
  private record Line(String text, boolean opened) {}

  /** Files the disputes and hands {@code report} one sentence once every filing answered. */
  public void file(String provider, String evidence, String reason, Consumer<String> report) {
    EvidenceHash hash = EvidenceHash.sha256(evidence);
    List<JobRef> jobs = jobsPaying.apply(provider);
    if (jobs.isEmpty()) {
      slash(
          provider,
          hash,
          reason,
          "no dispute filed: no metered job paid "
              + provider
              + " (evidence "
              + hash.hex().substring(0, 18)
              + "…)",
          report);
      return;
    }
    List<CompletableFuture<Line>> outcomes = new ArrayList<>();
    for (JobRef job : jobs) {
      outcomes.add(
          fraud
              .prove(job, provider, hash, reason)
              .thenApply(
                  o ->
                      new Line(
                          job.namespace() + "/" + job.name() + ": " + o.describe(),
                          o.filing().outcome() == DisputeFiling.Outcome.OPENED))
              .toCompletableFuture());
    }
    CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
        .thenRun(
            () -> {
              List<Line> lines = outcomes.stream().map(CompletableFuture::join).toList();
              String disputes =
                  "disputes: " + String.join("; ", lines.stream().map(Line::text).toList());
              if (lines.stream().anyMatch(Line::opened)) {
                report.accept(disputes);
              } else {
                // nothing still inside the window to dispute: the stake answers for the fraud
                slash(provider, hash, reason, disputes, report);
              }
            });
  }

  /** Slashes the provider's stake and reports {@code before} followed by what became of it. */
  private void slash(
      String provider, EvidenceHash hash, String reason, String before, Consumer<String> report) {
    slasher
        .slash(provider, hash, reason)
        .thenAccept(s -> report.accept(before + "; " + s.describe()));
  }

  private static List<JobRef> jobsPaying(
      String provider, BillingService billing, ProviderDirectory providers) {
    Optional<String> payout =
        providers
            .provider(provider)
            .map(p -> p.getSpec() == null ? null : p.getSpec().payoutAddress)
            .map(a -> a.toLowerCase(Locale.ROOT));
    if (payout.isEmpty() || billing.store() == null) {
      return List.of();
    }
    List<JobRef> jobs = new ArrayList<>();
    for (PairLedger ledger : billing.store().all()) {
      PairId pair = ledger.pair();
      if (pair.provider().equalsIgnoreCase(payout.get())) {
        billing.store().job(pair.jobId()).filter(j -> !jobs.contains(j)).ifPresent(jobs::add);
      }
    }
    return jobs;
  }

  /** For tests: the report as a future. */
  CompletionStage<String> file(String provider, String evidence, String reason) {
    CompletableFuture<String> out = new CompletableFuture<>();
    file(provider, evidence, reason, out::complete);
    return out;
  }
}
