package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class FraudDisputesTest {
  private static final JobRef JOB = new JobRef("TrainingJob", "ns", "job", "uid-1");
  private static final EvidenceHash EVIDENCE = EvidenceHash.sha256("evidence");

  private final List<String> resolved = new ArrayList<>();

  private DisputeResolver resolver(DisputeResolution answer) {
    return (job, provider, fraud) -> {
      resolved.add(job.name() + " " + provider + " fraud=" + fraud);
      return CompletableFuture.completedFuture(answer);
    };
  }

  private static DisputeResolution resolution(DisputeResolution.Outcome outcome, String tx) {
    return new DisputeResolution(outcome, Optional.ofNullable(tx), "said the chain");
  }

  @Test
  void anOpenedDisputeIsResolvedAsFraudAgainstTheSameJobAndProvider() {
    FraudDisputes fraud =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.opened(BigInteger.TEN, "0xopen", "10 wei frozen")),
            resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0xresolve")));

    FraudDisputes.Outcome outcome =
        fraud.prove(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();

    assertThat(resolved).containsExactly("job cheat fraud=true");
    assertThat(outcome.proven()).isTrue();
    assertThat(outcome.describe())
        .isEqualTo("opened in 0xopen (10 wei frozen); fraud verdict in 0xresolve: said the chain");
  }

  @Test
  void aDisputeThatDidNotOpenIsNotResolved() {
    FraudDisputes fraud =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.notOpened(DisputeFiling.Outcome.BILLING_OFF, "no chain")),
            resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0xresolve")));

    FraudDisputes.Outcome outcome =
        fraud.prove(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();

    assertThat(resolved).isEmpty();
    assertThat(outcome.proven()).isFalse();
    assertThat(outcome.verdict()).isEmpty();
    assertThat(outcome.describe()).isEqualTo("billing_off (no chain)");
  }

  @Test
  void aRefusedVerdictIsReportedAsNotGiven() {
    FraudDisputes fraud =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.opened(BigInteger.ONE, "0xopen", "frozen")),
            resolver(resolution(DisputeResolution.Outcome.FAILED, null)));

    FraudDisputes.Outcome outcome =
        fraud.prove(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();

    assertThat(outcome.proven()).isFalse();
    assertThat(outcome.describe())
        .isEqualTo("opened in 0xopen (frozen); fraud verdict not given (failed): said the chain");
  }

  @Test
  void portsThatThrowOrFailTheirStageEndInAFailedOutcomeNeverAnException() {
    FraudDisputes throwingFiler =
        new FraudDisputes(
            (job, provider, evidence, reason) -> {
              throw new IllegalStateException("filer down");
            },
            resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0x")));
    FraudDisputes.Outcome filed =
        throwingFiler.prove(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();
    assertThat(filed.filing().outcome()).isEqualTo(DisputeFiling.Outcome.FAILED);
    assertThat(filed.describe()).contains("filer down");

    FraudDisputes failingResolver =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.opened(BigInteger.ONE, "0xopen", "frozen")),
            (job, provider, fraud) ->
                CompletableFuture.failedFuture(new IllegalStateException("resolver down")));
    FraudDisputes.Outcome judged =
        failingResolver.prove(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();
    assertThat(judged.proven()).isFalse();
    assertThat(judged.verdict().orElseThrow().outcome())
        .isEqualTo(DisputeResolution.Outcome.FAILED);
    assertThat(judged.describe()).contains("resolver down");
  }

  @Test
  void aCheatCaughtBeforeItWasPaidHasItsStakeSlashedInstead() {
    List<String> slashed = new ArrayList<>();
    FraudDisputes fraud =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.notOpened(
                        DisputeFiling.Outcome.NOTHING_TO_DISPUTE, "the job paid 0")),
            resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0xresolve")),
            (provider, evidence, reason) -> {
              slashed.add(provider + " " + evidence.hex().substring(0, 10));
              return CompletableFuture.completedFuture(
                  new StakeSlashing(
                      StakeSlashing.Outcome.SLASHED, Optional.of("0xslash"), "0.5 of 1 slashed"));
            });

    FraudDisputes.Outcome outcome =
        fraud.proveOrSlash(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();

    assertThat(resolved).isEmpty();
    assertThat(slashed).containsExactly("cheat " + EVIDENCE.hex().substring(0, 10));
    assertThat(outcome.proven()).isFalse();
    assertThat(outcome.punished()).isTrue();
    assertThat(outcome.describe())
        .isEqualTo(
            "nothing_to_dispute (the job paid 0); stake slashed in 0xslash: 0.5 of 1 slashed");
  }

  @Test
  void anOpenedDisputeOrAnotherFailureSlashesNothing() {
    List<String> slashed = new ArrayList<>();
    StakeSlasher slasher =
        (provider, evidence, reason) -> {
          slashed.add(provider);
          return CompletableFuture.completedFuture(
              new StakeSlashing(StakeSlashing.Outcome.SLASHED, Optional.empty(), "slashed"));
        };
    FraudDisputes opened =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.opened(BigInteger.TEN, "0xopen", "10 wei frozen")),
            resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0xresolve")),
            slasher);
    FraudDisputes billingOff =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.notOpened(DisputeFiling.Outcome.BILLING_OFF, "no chain")),
            resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0xresolve")),
            slasher);

    assertThat(
            opened
                .proveOrSlash(JOB, "cheat", EVIDENCE, "why")
                .toCompletableFuture()
                .join()
                .punished())
        .isTrue();
    assertThat(
            billingOff
                .proveOrSlash(JOB, "cheat", EVIDENCE, "why")
                .toCompletableFuture()
                .join()
                .punished())
        .isFalse();
    assertThat(slashed).isEmpty();
  }

  @Test
  void aSlasherThatThrowsIsReportedNotPropagated() {
    FraudDisputes fraud =
        new FraudDisputes(
            (job, provider, evidence, reason) ->
                CompletableFuture.completedFuture(
                    DisputeFiling.notOpened(
                        DisputeFiling.Outcome.NOTHING_TO_DISPUTE, "the job paid 0")),
            resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0xresolve")),
            (provider, evidence, reason) -> {
              throw new IllegalStateException("no key");
            });

    FraudDisputes.Outcome outcome =
        fraud.proveOrSlash(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();

    assertThat(outcome.punished()).isFalse();
    assertThat(outcome.describe())
        .endsWith("stake not slashed (failed): the slasher failed: no key");
  }
}
