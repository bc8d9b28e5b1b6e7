package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrustLedgerTest {
  static final String H100 = "NVIDIA-H100-80GB-HBM3";
  static final Instant T0 = Instant.parse("2026-12-06T04:00:00Z");

  @Test
  void providerIsNotYetChallengedThenVerifiedThenFailedWhenOneNodeFails() {
    TrustLedger trust = new TrustLedger();
    Map<String, String> nodes = Map.of("a", H100, "b", H100);
    assertThat(trust.verified(nodes).status()).isEqualTo("Unknown");
    assertThat(trust.verified(nodes).reason()).isEqualTo("NotYetChallenged");

    trust.record(
        "a", "p", H100, new ChallengeVerdict(Outcome.PASSED, "ok"), T0, Duration.ofHours(1));
    assertThat(trust.verified(nodes).status()).isEqualTo("True");
    assertThat(trust.verified(nodes).message())
        .isEqualTo("1 of 2 nodes passed their last hardware challenge");

    trust.record(
        "b",
        "p",
        H100,
        new ChallengeVerdict(Outcome.TOO_SLOW, "correct but slow"),
        T0,
        Duration.ofHours(1));
    var state = trust.verified(nodes);
    assertThat(state.status()).isEqualTo("False");
    assertThat(state.reason()).isEqualTo("ChallengeFailed");
    assertThat(state.message())
        .isEqualTo("1 of 2 nodes quarantined, no new work: b (correct but slow)");
    assertThat(trust.quarantined(nodes)).containsOnlyKeys("b");
    assertThat(trust.quarantined(nodes).get("b").reason())
        .isEqualTo("challenge too slow for " + H100);
    assertThat(trust.counts("p").passed).isEqualTo(1);
    assertThat(trust.counts("p").failed).isEqualTo(1);
    assertThat(trust.quarantinedByProvider()).containsEntry("p", 1);
  }

  @Test
  void aNewClaimIsChallengedAfreshAndLiftsTheQuarantineOfTheOldOne() {
    TrustLedger trust = new TrustLedger();
    trust.record(
        "b",
        "p",
        H100,
        new ChallengeVerdict(Outcome.WRONG_RESULT, "wrong"),
        T0,
        Duration.ofHours(1));
    assertThat(trust.due("b", H100, T0.plusSeconds(7200))).as("quarantined: no re-check").isFalse();
    assertThat(trust.quarantined(Map.of("b", H100))).containsKey("b");
    String relabelled = "NVIDIA-GeForce-RTX-3090";
    assertThat(trust.unchallenged("b", relabelled)).isTrue();
    assertThat(trust.due("b", relabelled, T0)).isTrue();
    assertThat(trust.quarantined(Map.of("b", relabelled))).isEmpty();
  }

  @Test
  void aPassingNodeIsDueAgainAtItsRandomTime() {
    TrustLedger trust = new TrustLedger();
    assertThat(trust.due("a", H100, T0)).as("joined: due at once").isTrue();
    trust.record(
        "a", "p", H100, new ChallengeVerdict(Outcome.PASSED, "ok"), T0, Duration.ofMinutes(30));
    assertThat(trust.due("a", H100, T0.plusSeconds(60))).isFalse();
    assertThat(trust.due("a", H100, T0.plusSeconds(1800))).isTrue();
  }

  @Test
  void countsAreSeededFromStatusOnce() {
    TrustLedger trust = new TrustLedger();
    var recorded = new io.gpupool.api.v1alpha1.ChallengeRecord();
    recorded.passed = 5;
    recorded.failed = 1;
    trust.seed("p", recorded);
    trust.record(
        "a", "p", H100, new ChallengeVerdict(Outcome.PASSED, "ok"), T0, Duration.ofHours(1));
    trust.seed("p", recorded);
    assertThat(trust.counts("p").passed).isEqualTo(6);
    assertThat(trust.counts("p").failed).isEqualTo(1);
    assertThat(trust.counts("q")).isNull();
  }

  @Test
  void quarantineSurvivesARestartThroughProviderStatus() {
    TrustLedger before = new TrustLedger();
    before.record(
        "b",
        "p",
        H100,
        new ChallengeVerdict(Outcome.WRONG_RESULT, "wrong result: round 3"),
        T0,
        Duration.ofHours(1));
    before.record(
        "a", "p", H100, new ChallengeVerdict(Outcome.PASSED, "ok"), T0, Duration.ofHours(1));
    var status = new io.gpupool.api.v1alpha1.GpuProviderStatus();
    status.challenges = before.counts("p");
    assertThat(status.challenges.quarantined).hasSize(1);
    assertThat(status.challenges.quarantined.get(0).outcome).isEqualTo("WrongResult");
    assertThat(status.challenges.quarantined.get(0).since).isEqualTo(T0.toString());

    // A new operator process: nothing in memory until the providers' status is read.
    var provider = new io.gpupool.api.v1alpha1.GpuProvider();
    provider.getMetadata().setName("p");
    provider.setStatus(status);
    TrustLedger after = new TrustLedger();
    assertThat(after.quarantined(Map.of("b", H100))).as("before restore").isEmpty();
    after.restore(java.util.List.of(provider));
    assertThat(after.quarantined(Map.of("a", H100, "b", H100))).containsOnlyKeys("b");
    assertThat(after.quarantined(Map.of("b", H100)).get("b").reason())
        .isEqualTo("wrong challenge result");
    assertThat(after.due("b", H100, T0.plusSeconds(86_400)))
        .as("a restored quarantine is not challenged afresh")
        .isFalse();
    assertThat(after.unchallenged("b", H100)).isFalse();
    assertThat(after.due("a", H100, T0)).as("a restored pass waits for its random time").isFalse();
    assertThat(after.verified(Map.of("a", H100, "b", H100)).message())
        .contains("b (wrong result: round 3)");
    assertThat(after.counts("p").quarantined).hasSize(1);
    assertThat(after.counts("p").failed).isEqualTo(status.challenges.failed);
    // relabelled: a new claim, challenged afresh
    assertThat(after.quarantined(Map.of("b", "NVIDIA-GeForce-RTX-3090"))).isEmpty();
  }

  @Test
  void aPassAndItsNextChallengeTimeSurviveARestartThroughProviderStatus() {
    TrustLedger before = new TrustLedger();
    before.record(
        "a",
        "p",
        H100,
        new ChallengeVerdict(Outcome.PASSED, "ok"),
        T0,
        Duration.ofMinutes(30),
        24.0);
    before.record(
        "c", "p", H100, new ChallengeVerdict(Outcome.PASSED, "ok"), T0, Duration.ofMinutes(90));
    var status = new io.gpupool.api.v1alpha1.GpuProviderStatus();
    status.challenges = before.counts("p");
    assertThat(status.challenges.passedNodes)
        .extracting(n -> n.node + " " + n.product + " " + n.since + " " + n.nextChallengeTime)
        .containsExactly(
            "a " + H100 + " " + T0 + " " + T0.plusSeconds(1800),
            "c " + H100 + " " + T0 + " " + T0.plusSeconds(5400));
    assertThat(status.challenges.passedNodes.get(0).gpuSeconds).isEqualTo(24.0);

    var provider = new io.gpupool.api.v1alpha1.GpuProvider();
    provider.getMetadata().setName("p");
    provider.setStatus(status);
    TrustLedger after = new TrustLedger();
    after.restore(java.util.List.of(provider));
    assertThat(after.unchallenged("a", H100)).as("not a joining node").isFalse();
    assertThat(after.due("a", H100, T0.plusSeconds(60))).isFalse();
    assertThat(after.due("a", H100, T0.plusSeconds(1800))).as("at its own random time").isTrue();
    assertThat(after.due("c", H100, T0.plusSeconds(1800))).isFalse();
    assertThat(after.verified(Map.of("a", H100, "c", H100)).reason()).isEqualTo("ChallengePassed");
    assertThat(after.counts("p").passedNodes).hasSize(2);
    assertThat(after.takeRestoredSpend())
        .as("the budget a restarted runner counts")
        .containsExactly(new TrustLedger.Spent(T0, 24.0));
    assertThat(after.takeRestoredSpend()).isEmpty();
    // relabelled while the operator was down: a new claim, challenged as it joins
    assertThat(after.unchallenged("a", "NVIDIA-GeForce-RTX-3090")).isTrue();
    // a quarantine later replaces the pass in status
    after.record(
        "c",
        "p",
        H100,
        new ChallengeVerdict(Outcome.WRONG_RESULT, "wrong result: round 1"),
        T0.plusSeconds(5400),
        Duration.ofHours(1));
    assertThat(after.counts("p").passedNodes).extracting(n -> n.node).containsExactly("a");
    assertThat(after.counts("p").quarantined).extracting(n -> n.node).containsExactly("c");
  }

  @Test
  void aQuarantineForWrongWorkSurvivesARestartAndRelabellingToo() {
    TrustLedger before = new TrustLedger();
    before.quarantineForWork("c", "p", H100, "canary answers disagree with 2 of 3 providers");
    var status = new io.gpupool.api.v1alpha1.GpuProviderStatus();
    status.challenges = before.counts("p");
    assertThat(status.challenges.quarantined).hasSize(1);
    assertThat(status.challenges.quarantined.get(0).outcome).isEqualTo("WrongWork");
    var provider = new io.gpupool.api.v1alpha1.GpuProvider();
    provider.getMetadata().setName("p");
    provider.setStatus(status);

    TrustLedger after = new TrustLedger();
    after.restore(java.util.List.of(provider));
    var q = after.quarantined(Map.of("c", "NVIDIA-GeForce-RTX-3090")).get("c");
    assertThat(q.after()).isEqualTo("wrong paid work");
    assertThat(q.reason()).isEqualTo("canary answers disagree with 2 of 3 providers");
  }
}
