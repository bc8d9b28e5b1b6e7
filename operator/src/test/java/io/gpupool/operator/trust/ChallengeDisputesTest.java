package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.operator.billing.DisputeFiling;
import io.gpupool.operator.billing.DisputeResolution;
import io.gpupool.operator.billing.FraudDisputes;
import io.gpupool.operator.billing.JobRef;
import io.gpupool.operator.billing.StakeSlashing;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ChallengeDisputesTest {
  static final JobRef JOB = new JobRef("TrainingJob", "default", "on-h100", "uid-1");
  static final JobRef ON_4090 = new JobRef("TrainingJob", "default", "on-4090", "uid-2");
  private final List<String> calls = new ArrayList<>();

  /**
   * @param ranOn node name to the jobs that ran on it, all of provider "bargain"
   */
  private ChallengeDisputes disputes(
      Map<String, List<JobRef>> ranOn, DisputeFiling.Outcome filing) {
    return new ChallengeDisputes(
        new FraudDisputes(
            (job, provider, evidence, reason) -> {
              calls.add("open " + job.name());
              return CompletableFuture.completedFuture(
                  filing == DisputeFiling.Outcome.OPENED
                      ? DisputeFiling.opened(BigInteger.TEN, "0xopen", "10 wei frozen")
                      : DisputeFiling.notOpened(filing, "nothing inside the window"));
            },
            (job, provider, fraud) -> {
              calls.add("resolve " + job.name());
              return CompletableFuture.completedFuture(
                  new DisputeResolution(
                      DisputeResolution.Outcome.RESOLVED,
                      Optional.of("0xres"),
                      "resolved as fraud"));
            }),
        (provider, evidence, reason) -> {
          calls.add("slash " + provider + " " + evidence.hex().substring(0, 6));
          return CompletableFuture.completedFuture(
              new StakeSlashing(
                  StakeSlashing.Outcome.SLASHED, Optional.of("0xslash"), "from 10 to 5 ETH"));
        },
        (provider, node) ->
            "bargain".equals(provider) ? ranOn.getOrDefault(node, List.of()) : List.of());
  }

  private String file(ChallengeDisputes d) throws Exception {
    return d.file(
            "bargain",
            "h100-1",
            "nonce=ab node=h100-1: wrong result",
            "wrong hardware-challenge result")
        .toCompletableFuture()
        .get(Duration.ofSeconds(5).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  @Test
  void aWrongAnswerFromANodeThatNeverRanPaidWorkSlashesTheStake() throws Exception {
    String report = file(disputes(Map.of(), DisputeFiling.Outcome.OPENED));
    assertThat(calls).hasSize(1).allMatch(c -> c.startsWith("slash bargain "));
    assertThat(report)
        .startsWith("no dispute filed: no metered job of bargain ran on h100-1")
        .contains("; stake slashed in 0xslash: from 10 to 5 ETH");
  }

  @Test
  void aPaidPairInsideTheWindowIsDisputedAndJudgedInsteadOfSlashingDirectly() throws Exception {
    String report = file(disputes(Map.of("h100-1", List.of(JOB)), DisputeFiling.Outcome.OPENED));
    assertThat(calls).containsExactly("open on-h100", "resolve on-h100");
    assertThat(report).contains("default/on-h100: opened in 0xopen").contains("fraud verdict");
    assertThat(report).doesNotContain("stake slashed");
  }

  @Test
  void onlyTheJobsThatRanOnTheLyingNodeAreDisputed() throws Exception {
    String report =
        file(
            disputes(
                Map.of("h100-1", List.of(JOB), "4090-1", List.of(ON_4090)),
                DisputeFiling.Outcome.OPENED));
    assertThat(calls).containsExactly("open on-h100", "resolve on-h100");
    assertThat(report).contains("default/on-h100").doesNotContain("on-4090");
  }

  @Test
  void aLyingNodeThatRanNothingSlashesTheStakeThoughItsProvidersOtherNodeRanAJob()
      throws Exception {
    String report =
        file(disputes(Map.of("4090-1", List.of(ON_4090)), DisputeFiling.Outcome.OPENED));
    assertThat(calls).hasSize(1).allMatch(c -> c.startsWith("slash bargain "));
    assertThat(report).startsWith("no dispute filed: no metered job of bargain ran on h100-1");
  }

  @Test
  void earningsThatLeftTheWindowLeaveTheStakeToAnswerForTheFraud() throws Exception {
    String report =
        file(disputes(Map.of("h100-1", List.of(JOB)), DisputeFiling.Outcome.NOTHING_TO_DISPUTE));
    assertThat(calls).hasSize(2);
    assertThat(calls.get(0)).isEqualTo("open on-h100");
    assertThat(calls.get(1)).startsWith("slash bargain ");
    assertThat(report)
        .contains("default/on-h100: nothing_to_dispute")
        .contains("; stake slashed in 0xslash: from 10 to 5 ETH");
  }
}
