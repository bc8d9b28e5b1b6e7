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
  private static final DisputeFiling OPENED =
      DisputeFiling.opened(BigInteger.TEN, "0xopen", "10 wei frozen");
  private static final DisputeFiling BILLING_OFF =
      DisputeFiling.notOpened(DisputeFiling.Outcome.BILLING_OFF, "no chain");
  private static final DisputeFiling NOTHING_TO_DISPUTE =
      DisputeFiling.notOpened(DisputeFiling.Outcome.NOTHING_TO_DISPUTE, "the job paid 0");

  private final List<String> resolved = new ArrayList<>();
  private final List<String> slashed = new ArrayList<>();

  /** A filer whose chain answers {@code filing} at once. */
  private static DisputeFiler filer(DisputeFiling filing) {
    return (job, provider, evidence, reason) -> CompletableFuture.completedFuture(filing);
  }

  /** A resolver that records what it was asked and answers {@code answer}. */
  private DisputeResolver resolver(DisputeResolution answer) {
    return (job, provider, fraud) -> {
      resolved.add(job.name() + " " + provider + " fraud=" + fraud);
      return CompletableFuture.completedFuture(answer);
    };
  }

  private DisputeResolver resolvedAsFraud() {
    return resolver(resolution(DisputeResolution.Outcome.RESOLVED, "0xresolve"));
  }

  /**
   * A slasher that records the provider and the evidence's first bytes and answers {@code answer}.
   */
  private StakeSlasher slasher(StakeSlashing answer) {
    return (provider, evidence, reason) -> {
      slashed.add(provider + " " + evidence.hex().substring(0, 10));
      return CompletableFuture.completedFuture(answer);
    };
  }

  private static DisputeResolution resolution(DisputeResolution.Outcome outcome, String tx) {
    return new DisputeResolution(outcome, Optional.ofNullable(tx), "said the chain");
  }

  private static FraudDisputes.Outcome prove(FraudDisputes fraud) {
    return fraud.prove(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();
  }

  private static FraudDisputes.Outcome proveOrSlash(FraudDisputes fraud) {
    return fraud.proveOrSlash(JOB, "cheat", EVIDENCE, "why").toCompletableFuture().join();
  }

  @Test
  void anOpenedDisputeIsResolvedAsFraudAgainstTheSameJobAndProvider() {
    FraudDisputes.Outcome outcome = prove(new FraudDisputes(filer(OPENED), resolvedAsFraud()));

    assertThat(resolved).containsExactly("job cheat fraud=true");
    assertThat(outcome.proven()).isTrue();
    assertThat(outcome.describe())
        .isEqualTo("opened in 0xopen (10 wei frozen); fraud verdict in 0xresolve: said the chain");
  }

  @Test
  void aDisputeThatDidNotOpenIsNotResolved() {
    FraudDisputes.Outcome outcome = prove(new FraudDisputes(filer(BILLING_OFF), resolvedAsFraud()));

    assertThat(resolved).isEmpty();
    assertThat(outcome.proven()).isFalse();
    assertThat(outcome.verdict()).isEmpty();
    assertThat(outcome.describe()).isEqualTo("billing_off (no chain)");
  }

  @Test
  void aRefusedVerdictIsReportedAsNotGiven() {
    FraudDisputes.Outcome outcome =
        prove(
            new FraudDisputes(
                filer(DisputeFiling.opened(BigInteger.ONE, "0xopen", "frozen")),
                resolver(resolution(DisputeResolution.Outcome.FAILED, null))));

    assertThat(outcome.proven()).isFalse();
    assertThat(outcome.describe())
        .isEqualTo("opened in 0xopen (frozen); fraud verdict not given (failed): said the chain");
  }

  @Test
  void portsThatThrowOrFailTheirStageEndInAFailedOutcomeNeverAnException() {
    FraudDisputes.Outcome filed =
        prove(
            new FraudDisputes(
                (job, provider, evidence, reason) -> {
                  throw new IllegalStateException("filer down");
                },
                resolvedAsFraud()));
    assertThat(filed.filing().outcome()).isEqualTo(DisputeFiling.Outcome.FAILED);
    assertThat(filed.describe()).contains("filer down");

    FraudDisputes.Outcome judged =
        prove(
            new FraudDisputes(
                filer(OPENED),
                (job, provider, fraud) ->
                    CompletableFuture.failedFuture(new IllegalStateException("resolver down"))));
    assertThat(judged.proven()).isFalse();
    assertThat(judged.verdict().orElseThrow().outcome())
        .isEqualTo(DisputeResolution.Outcome.FAILED);
    assertThat(judged.describe()).contains("resolver down");
  }

  @Test
  void aCheatCaughtBeforeItWasPaidHasItsStakeSlashedInstead() {
    FraudDisputes.Outcome outcome =
        proveOrSlash(
            new FraudDisputes(
                filer(NOTHING_TO_DISPUTE),
                resolvedAsFraud(),
                slasher(
                    new StakeSlashing(
                        StakeSlashing.Outcome.SLASHED,
                        Optional.of("0xslash"),
                        "0.5 of 1 slashed"))));

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
    StakeSlasher slasher =
        slasher(new StakeSlashing(StakeSlashing.Outcome.SLASHED, Optional.empty(), "slashed"));

    assertThat(
            proveOrSlash(new FraudDisputes(filer(OPENED), resolvedAsFraud(), slasher)).punished())
        .isTrue();
    assertThat(
            proveOrSlash(new FraudDisputes(filer(BILLING_OFF), resolvedAsFraud(), slasher))
                .punished())
        .isFalse();
    assertThat(slashed).isEmpty();
  }

  @Test
  void aSlasherThatThrowsIsReportedNotPropagated() {
    FraudDisputes.Outcome outcome =
        proveOrSlash(
            new FraudDisputes(
                filer(NOTHING_TO_DISPUTE),
                resolvedAsFraud(),
                (provider, evidence, reason) -> {
                  throw new IllegalStateException("no key");
                }));

    assertThat(outcome.punished()).isFalse();
    assertThat(outcome.describe())
        .endsWith("stake not slashed (failed): the slasher failed: no key");
  }
}
