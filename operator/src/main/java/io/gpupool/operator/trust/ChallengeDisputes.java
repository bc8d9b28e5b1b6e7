package io.gpupool.operator.trust;

import io.gpupool.operator.billing.BillingService;
import io.gpupool.operator.billing.DisputeFiling;
import io.gpupool.operator.billing.EvidenceHash;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.billing.StakeSlasher;
import io.gpupool.operator.billing.UsageMeter;
import io.gpupool.operator.inventory.ProviderDirectory;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Turns a wrong challenge answer from one node into disputes: one per job that ran on that node
 * (its pods metered there), each carrying the hash of the challenge evidence, filed and resolved as
 * fraud by {@link FraudDisputes} (the operator recomputed the rounds it checked, so a mismatch is a
 * fact). The answer proves that node lied about its GPUs, so the jobs it ran paid for GPUs they did
 * not get; jobs on the provider's other nodes are not proven bad by it (those nodes answer their
 * own challenges) and are still paid. When no dispute opens (the node never ran paid work, as the
 * sandbox's bargain-h100-hub caught on joining, or its earnings left the challenge window), the
 * provider's stake is slashed directly through the {@link StakeSlasher}: a wrong answer always
 * costs stake. What happened is reported in words for the provider's event.
 */
@ApplicationScoped
public class ChallengeDisputes {
  private final FraudDisputes fraud;
  private final StakeSlasher slasher;
  private final BiFunction<String, String, List<JobRef>> jobsRunOn;

  @Inject
  public ChallengeDisputes(
      FraudDisputes fraud,
      StakeSlasher slasher,
      BillingService billing,
      ProviderDirectory providers) {
    this(fraud, slasher, (provider, node) -> jobsRunOn(provider, node, billing, providers));
  }

  /**
   * @param jobsRunOn GpuProvider name and node name to the jobs with usage metered on that node
   */
  ChallengeDisputes(
      FraudDisputes fraud,
      StakeSlasher slasher,
      BiFunction<String, String, List<JobRef>> jobsRunOn) {
    this.fraud = fraud;
    this.slasher = slasher;
    this.jobsRunOn = jobsRunOn;
  }

  /** One job's line for the report, and whether its dispute opened. */
  private record Line(String text, boolean opened) {}

  /**
   * Files the disputes over the jobs {@code node} ran and hands {@code report} one sentence once
   * every filing answered.
   */
  public void file(
      String provider, String node, String evidence, String reason, Consumer<String> report) {
    EvidenceHash hash = EvidenceHash.sha256(evidence);
    List<JobRef> jobs = jobsRunOn.apply(provider, node);
    if (jobs.isEmpty()) {
      slash(
          provider,
          hash,
          reason,
          "no dispute filed: no metered job of "
              + provider
              + " ran on "
              + node
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

  /** Nothing is disputed for a provider without a payout address: it was never paid. */
  private static List<JobRef> jobsRunOn(
      String provider, String node, BillingService billing, ProviderDirectory providers) {
    boolean paid =
        providers
            .provider(provider)
            .map(p -> p.getSpec() == null ? null : p.getSpec().payoutAddress)
            .isPresent();
    UsageMeter meter = billing.meter();
    return paid && meter != null ? meter.jobsRunOn(provider, node) : List.of();
  }

  /** For tests: the report as a future. */
  CompletionStage<String> file(String provider, String node, String evidence, String reason) {
    CompletableFuture<String> out = new CompletableFuture<>();
    file(provider, node, evidence, reason, out::complete);
    return out;
  }
}
