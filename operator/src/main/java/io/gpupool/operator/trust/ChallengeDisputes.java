package io.gpupool.operator.trust;

import io.gpupool.billing.PairId;
import io.gpupool.billing.ledger.PairLedger;
import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.EvidenceHash;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.inventory.ProviderDirectory;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Turns a wrong challenge answer into disputes: one per job the provider was paid for (its metered
 * pairs), each carrying the hash of the challenge evidence, filed and resolved as fraud by {@link
 * FraudDisputes} (the operator recomputed the rounds it checked, so a mismatch is a fact). What
 * happened is reported in words for the provider's event.
 */
@ApplicationScoped
public class ChallengeDisputes {
  private final FraudDisputes fraud;
  private final BillingService billing;
  private final ProviderDirectory providers;

  public ChallengeDisputes(
      FraudDisputes fraud, BillingService billing, ProviderDirectory providers) {
    this.fraud = fraud;
    this.billing = billing;
    this.providers = providers;
  }

  /** Files the disputes and hands {@code report} one sentence once every filing answered. */
  public void file(String provider, String evidence, String reason, Consumer<String> report) {
    EvidenceHash hash = EvidenceHash.sha256(evidence);
    List<JobRef> jobs = jobsPaying(provider);
    if (jobs.isEmpty()) {
      report.accept(
          "no dispute filed: no metered job paid "
              + provider
              + " (evidence "
              + hash.hex().substring(0, 18)
              + "…)");
      return;
    }
    List<CompletableFuture<String>> outcomes = new ArrayList<>();
    for (JobRef job : jobs) {
      outcomes.add(
          fraud
              .prove(job, provider, hash, reason)
              .thenApply(o -> job.namespace() + "/" + job.name() + ": " + o.describe())
              .toCompletableFuture());
    }
    CompletableFuture.allOf(outcomes.toArray(CompletableFuture[]::new))
        .thenRun(
            () ->
                report.accept(
                    "disputes: "
                        + String.join(
                            "; ", outcomes.stream().map(CompletableFuture::join).toList())));
  }

  private List<JobRef> jobsPaying(String provider) {
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
