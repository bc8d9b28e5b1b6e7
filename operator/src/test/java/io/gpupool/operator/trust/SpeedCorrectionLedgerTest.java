package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.gpupool.api.v1alpha1.ChallengeRecord;
import io.gpupool.operator.inventory.SpeedRatings;
import io.gpupool.scheduler.trust.ChallengeVerdict;
import io.gpupool.scheduler.trust.ChallengeVerdict.Outcome;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A node that computed correctly but slower than its claim is rated, not quarantined: the rating
 * reaches placement and billing (SpeedRatings), shows in status and the Verified condition,
 * survives a restart through status, and a challenge at the claimed speed restores it.
 */
class SpeedCorrectionLedgerTest {
  static final String H100 = "NVIDIA-H100-80GB-HBM3";
  static final Instant T0 = Instant.parse("2026-12-06T04:00:00Z");
  static final Map<String, String> NODES = Map.of("a", H100, "b", H100);

  final SpeedRatings ratings = new SpeedRatings();
  final TrustLedger trust = new TrustLedger(ratings);

  void slower(String node, double factor) {
    trust.record(
        node,
        "p",
        H100,
        new ChallengeVerdict(Outcome.SLOWER, "correct but slow: about 40 %", factor),
        T0,
        Duration.ofHours(1));
  }

  @Test
  void aSlowerNodeIsRatedNotQuarantined() {
    trust.record(
        "a", "p", H100, new ChallengeVerdict(Outcome.PASSED, "ok"), T0, Duration.ofHours(1));
    slower("b", 0.4);
    assertThat(trust.quarantined(NODES)).isEmpty();
    assertThat(trust.quarantinedByProvider()).doesNotContainKey("p");
    assertThat(trust.speedFactors(NODES)).containsExactly(Map.entry("b", 0.4));
    assertThat(ratings.factor("b", H100)).isEqualTo(0.4);
    assertThat(ratings.factor("a", H100)).isEqualTo(1.0);
    var state = trust.verified(NODES);
    assertThat(state.status()).isEqualTo("True");
    assertThat(state.reason()).isEqualTo("SpeedCorrected");
    assertThat(state.message())
        .isEqualTo(
            "2 of 2 nodes answered their last hardware challenge correctly; 1 slower than their"
                + " labels claim, planned and priced at the speed measured: b at 40 % of "
                + H100);
    ChallengeRecord counts = trust.counts("p");
    assertThat(counts.failed).as("a false claim counts as a failed challenge").isEqualTo(1);
    assertThat(counts.quarantined).isNull();
    assertThat(counts.speedCorrected).hasSize(1);
    assertThat(counts.speedCorrected.get(0).node).isEqualTo("b");
    assertThat(counts.speedCorrected.get(0).product).isEqualTo(H100);
    assertThat(counts.speedCorrected.get(0).speedFactor).isEqualTo(0.4);
    assertThat(counts.speedCorrected.get(0).message).contains("correct but slow");
    assertThat(counts.speedCorrected.get(0).since).isEqualTo(T0.toString());
    assertThat(trust.due("b", H100, T0.plusSeconds(3600))).as("re-challenged later").isTrue();
  }

  @Test
  void theRatingSurvivesARestartThroughProviderStatus() {
    slower("b", 0.4);
    ChallengeRecord status = trust.counts("p");
    SpeedRatings afterRestart = new SpeedRatings();
    TrustLedger restarted = new TrustLedger(afterRestart);
    restarted.seed("p", status);
    assertThat(restarted.speedFactor("b", H100)).isEqualTo(0.4);
    assertThat(afterRestart.factor("b", H100)).isEqualTo(0.4);
    assertThat(restarted.quarantined(NODES)).isEmpty();
    assertThat(restarted.verified(NODES).reason()).isEqualTo("SpeedCorrected");
    assertThat(restarted.due("b", H100, T0)).as("challenged again when the budget allows").isTrue();
    assertThat(restarted.counts("p").speedCorrected.get(0).since).isEqualTo(T0.toString());
  }

  @Test
  void aChallengeAtTheClaimedSpeedRestoresIt() {
    slower("b", 0.4);
    trust.record(
        "b",
        "p",
        H100,
        new ChallengeVerdict(Outcome.PASSED, "at its rating", 0.4),
        T0.plusSeconds(60),
        Duration.ofHours(1));
    assertThat(trust.speedFactor("b", H100)).as("passing at its rating keeps it").isEqualTo(0.4);
    assertThat(trust.counts("p").speedCorrected.get(0).since)
        .as("rated since the measurement, not the last pass")
        .isEqualTo(T0.toString());
    trust.record(
        "b",
        "p",
        H100,
        new ChallengeVerdict(Outcome.PASSED, "ok"),
        T0.plusSeconds(120),
        Duration.ofHours(1));
    assertThat(trust.speedFactor("b", H100)).isEqualTo(1.0);
    assertThat(ratings.factor("b", H100)).isEqualTo(1.0);
    assertThat(trust.counts("p").speedCorrected).isNull();
    assertThat(trust.verified(NODES).reason()).isEqualTo("ChallengePassed");
  }

  @Test
  void aRepeatedMismatchQuarantinesAndDropsTheRating() {
    slower("b", 0.4);
    trust.record(
        "b",
        "p",
        H100,
        new ChallengeVerdict(Outcome.TOO_SLOW, "slower again than its corrected rating"),
        T0.plusSeconds(60),
        Duration.ofHours(1));
    assertThat(trust.quarantined(NODES)).containsOnlyKeys("b");
    assertThat(trust.speedFactors(NODES)).isEmpty();
    assertThat(ratings.factor("b", H100)).isEqualTo(1.0);
    assertThat(trust.counts("p").speedCorrected).isNull();
    assertThat(trust.verified(NODES).status()).isEqualTo("False");
  }

  @Test
  void aRatingHoldsOnlyForTheClaimItWasMeasuredFor() {
    slower("b", 0.4);
    String relabelled = "NVIDIA-A100-SXM4-80GB";
    assertThat(trust.speedFactor("b", relabelled)).isEqualTo(1.0);
    assertThat(ratings.factor("b", relabelled)).isEqualTo(1.0);
    assertThat(trust.speedFactors(Map.of("b", relabelled))).isEmpty();
    trust.forget("b");
    assertThat(ratings.factor("b", H100)).isEqualTo(1.0);
  }

  @Test
  void billingPricesARatedNodeAtItsShareRoundedDown() {
    slower("b", 0.37);
    BigInteger listed = new BigInteger("2000000000000000001");
    assertThat(ratings.price("b", H100, listed)).isEqualTo(new BigInteger("740000000000000000"));
    assertThat(ratings.price("a", H100, listed)).isSameAs(listed);
    assertThat(ratings.price("b", "NVIDIA-A100-SXM4-80GB", listed)).isSameAs(listed);
  }
}
