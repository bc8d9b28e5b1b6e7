package io.gpupool.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.model.GpuSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * How many rounds a challenge may have: a termination-message answer carries every digest, so at
 * most 240; a committed one carries a root, so as many as it takes to keep a fast GPU busy for the
 * target, up to {@link Challenge#MAX_COMMITTED_ROUNDS}.
 */
class ChallengeRoundsTest {
  static final String NONCE = "00112233445566778899aabbccddeeff";
  static final GpuCatalog CATALOG = GpuCatalog.defaults();
  static final GpuSpec H100 = CATALOG.lookup("NVIDIA-H100-80GB-HBM3", 0, null);
  static final GpuSpec RTX3090 = CATALOG.lookup("NVIDIA-GeForce-RTX-3090", 0, null);
  static final GpuSpec P100 = CATALOG.lookup("Tesla-P100-PCIE-16GB", 0, null);
  static final TimingModel REAL = new TimingModel(0.4, 1.6, Duration.ofSeconds(60));
  static final Duration TARGET = Duration.ofSeconds(45);

  @Test
  void aChallengeTakesMillionsOfRoundsUpToTheCommittedBound() {
    assertThat(new Challenge(NONCE, 512, 100_000).rounds()).isEqualTo(100_000);
    assertThat(new Challenge(NONCE, 512, Challenge.MAX_COMMITTED_ROUNDS).rounds())
        .isEqualTo(1 << 26);
    assertThatThrownBy(() -> new Challenge(NONCE, 512, Challenge.MAX_COMMITTED_ROUNDS + 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1..67108864");
    assertThatThrownBy(() -> new Challenge(NONCE, 512, 0))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void onlyACommittedChallengeMayHaveMoreRoundsThanATerminationMessageHolds() {
    assertThat(Answering.TERMINATION_MESSAGE.maxRounds()).isEqualTo(240);
    assertThat(Answering.COMMIT_THEN_OPEN.maxRounds()).isEqualTo(Challenge.MAX_COMMITTED_ROUNDS);
    Map<String, String> env = env(NONCE, "512", "1000000");
    assertThat(ChallengeEnv.parse(env)).isEmpty(); // no port: the answer is the digests
    env.put(ChallengeEnv.PORT, "8471");
    assertThat(ChallengeEnv.parse(env)).contains(new Challenge(NONCE, 512, 1_000_000));
    assertThat(ChallengeEnv.parse(env(NONCE, "512", "240"))).isPresent();
    assertThat(ChallengeEnv.parse(env(NONCE, "512", "241"))).isEmpty();
    env.put(ChallengeEnv.ROUNDS, Long.toString(Challenge.MAX_COMMITTED_ROUNDS + 1L));
    assertThat(ChallengeEnv.parse(env)).isEmpty();
  }

  @Test
  void aTerminationMessageCheckRefusesAChallengeItsAnswerCannotHold() {
    Challenge big = new Challenge(NONCE, 8, 241);
    assertThat(ChallengeCheck.problem(big, "", new Random(1), 4))
        .hasValueSatisfying(p -> assertThat(p).contains("at most 240"));
  }

  @Test
  void committedRoundsKeepTheClaimedProductBusyForTheTarget() {
    // 45 s × 989 TFLOP/s × 0.4 over 2·512³ FLOPs a round.
    int h100 = REAL.roundsFor(512, H100, 1, TARGET, Answering.COMMIT_THEN_OPEN);
    assertThat(h100).isEqualTo(66_317_618);
    Challenge c = new Challenge(NONCE, 512, h100);
    assertThat(REAL.expectedSeconds(c, H100, 1)).isBetween(45.0, 45.001);
    // What an RTX 3090 needs for the same rounds: 14 times the H100's 45 s.
    assertThat(REAL.expectedSeconds(c, RTX3090, 1)).isBetween(626.5, 627.5);
    assertThat(REAL.roundsFor(512, P100, 1, TARGET, Answering.COMMIT_THEN_OPEN))
        .isEqualTo(1_253_933);
  }

  @Test
  void committedRoundsStopAtTheBoundAndATerminationMessageAt240() {
    // 8 H100s at 512 would need 530 million rounds: capped, the challenge takes 5.7 s of them.
    assertThat(REAL.roundsFor(512, H100, 8, TARGET, Answering.COMMIT_THEN_OPEN))
        .isEqualTo(Challenge.MAX_COMMITTED_ROUNDS);
    // At 1024 they fit under the bound with the full 45 s.
    assertThat(REAL.roundsFor(1024, H100, 8, TARGET, Answering.COMMIT_THEN_OPEN))
        .isEqualTo(66_317_618)
        .isLessThan(Challenge.MAX_COMMITTED_ROUNDS);
    assertThat(REAL.roundsFor(512, H100, 8, TARGET, Answering.TERMINATION_MESSAGE)).isEqualTo(240);
    assertThat(REAL.roundsFor(512, P100, 1, TARGET, Answering.TERMINATION_MESSAGE)).isEqualTo(240);
    assertThat(REAL.roundsFor(8, RTX3090, 1, Duration.ZERO, Answering.COMMIT_THEN_OPEN))
        .isEqualTo(1);
  }

  private static Map<String, String> env(String nonce, String size, String rounds) {
    Map<String, String> env = new HashMap<>();
    env.put(ChallengeEnv.NONCE, nonce);
    env.put(ChallengeEnv.SIZE, size);
    env.put(ChallengeEnv.ROUNDS, rounds);
    return env;
  }
}
