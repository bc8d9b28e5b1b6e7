package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.scheduler.model.GpuCatalog;
import io.gpupool.scheduler.trust.Answering;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWork;
import io.gpupool.scheduler.trust.TimingModel;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChallengeAnswersTest {
  static final Challenge CHALLENGE = new Challenge("0123456789abcdef0123456789abcdef", 16, 4);

  private static Pod pod() {
    return pod(false);
  }

  /** A challenge pod; {@code opening}: commit-then-open on port 8471. */
  private static Pod pod(boolean opening) {
    Pod pod = podWithoutPort();
    if (opening) {
      pod.getSpec()
          .getContainers()
          .get(0)
          .getEnv()
          .add(new io.fabric8.kubernetes.api.model.EnvVar(ChallengeEnv.PORT, "8471", null));
    }
    return pod;
  }

  private static Pod podWithoutPort() {
    return new PodBuilder()
        .withNewMetadata()
        .withName("challenge")
        .addToLabels(ChallengeEnv.NODE_LABEL, "n")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("challenge")
        .addNewEnv()
        .withName(ChallengeEnv.NONCE)
        .withValue(CHALLENGE.nonce())
        .endEnv()
        .addNewEnv()
        .withName(ChallengeEnv.SIZE)
        .withValue("16")
        .endEnv()
        .addNewEnv()
        .withName(ChallengeEnv.ROUNDS)
        .withValue("4")
        .endEnv()
        .endContainer()
        .endSpec()
        .build();
  }

  /** A node of one L40S labelled as GFD does, with {@code extra} labels. */
  static Node node(Map<String, String> extra) {
    Map<String, String> labels = new HashMap<>(extra);
    labels.put("nvidia.com/gpu.product", "NVIDIA-L40S");
    labels.put("nvidia.com/gpu.count", "1");
    labels.put("nvidia.com/gpu.memory", "46068");
    return new NodeBuilder()
        .withNewMetadata()
        .withName("n")
        .withLabels(labels)
        .endMetadata()
        .build();
  }

  @Test
  void aThrottledNodeAnswersCorrectlyAndTakesLongerByItsShare() {
    var honest = ChallengeAnswers.answer(pod(), node(Map.of())).orElseThrow();
    var throttled =
        ChallengeAnswers.answer(pod(), node(Map.of(ChallengeAnswers.SPEED_SHARE_LABEL, "0.25")))
            .orElseThrow();
    assertThat(throttled.message()).isEqualTo(ChallengeWork.answer(CHALLENGE));
    assertThat(honest.message()).isEqualTo(throttled.message());
    assertThat(throttled.wallMillis())
        .isBetween(4 * honest.wallMillis() - 2, 4 * honest.wallMillis() + 2);
  }

  private static Node h100(Map<String, String> extra) {
    Map<String, String> labels = new HashMap<>(extra);
    labels.put("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3");
    labels.put("nvidia.com/gpu.count", "1");
    labels.put("nvidia.com/gpu.memory", "81559");
    return new NodeBuilder()
        .withNewMetadata()
        .withName("n")
        .withLabels(labels)
        .endMetadata()
        .build();
  }

  @Test
  void inCommitThenOpenAnHonestNodeCommitsEveryProductAndAnswersNothingInItsTerminationMessage() {
    assertThat(ChallengeAnswers.answer(pod(true), node(Map.of()))).isEmpty();
    var honest = ChallengeAnswers.commitment(pod(true), node(Map.of())).orElseThrow();
    assertThat(String.join("", honest.digests())).isEqualTo(ChallengeWork.answer(CHALLENGE));
    assertThat(honest.opens()).isTrue();
    assertThat(honest.wallMillis())
        .isEqualTo(ChallengeAnswers.answer(pod(), node(Map.of())).orElseThrow().wallMillis());
    assertThat(ChallengeAnswers.commitment(pod(), node(Map.of()))).isEmpty();
  }

  @Test
  void aSlowGpuClaimingAFastOneSkipsWhatItCannotComputeInTheClaimedTime() {
    // An L40S (362 TFLOP/s) claiming an H100 (989) computes 4 × 362 / 989 → 1 of 4 products in the
    // H100's time and commits made-up digests for the other 3, on time.
    Map<String, String> skip =
        Map.of(
            ChallengeAnswers.REAL_PRODUCT_LABEL, "NVIDIA-L40S",
            ChallengeAnswers.ANSWER_LABEL, "skip");
    var cheat = ChallengeAnswers.commitment(pod(true), h100(skip)).orElseThrow();
    var honestH100 = ChallengeAnswers.commitment(pod(true), h100(Map.of())).orElseThrow();
    assertThat(cheat.wallMillis()).isEqualTo(honestH100.wallMillis());
    int right = 0;
    for (int r = 0; r < CHALLENGE.rounds(); r++) {
      right += cheat.digests().get(r).equals(ChallengeWork.roundDigest(CHALLENGE, r)) ? 1 : 0;
    }
    assertThat(right).isEqualTo(1);
    var unopened =
        ChallengeAnswers.commitment(
                pod(true), node(Map.of(ChallengeAnswers.ANSWER_LABEL, "unopened")))
            .orElseThrow();
    assertThat(unopened.opens()).isFalse();
  }

  @Test
  void aShareOutsideZeroToOneIsIgnored() {
    for (String bad : new String[] {"0", "-1", "1.5", "fast", "NaN"}) {
      assertThat(ChallengeAnswers.speedShare(Map.of(ChallengeAnswers.SPEED_SHARE_LABEL, bad)))
          .as(bad)
          .isEqualTo(1.0);
    }
    assertThat(ChallengeAnswers.speedShare(Map.of(ChallengeAnswers.SPEED_SHARE_LABEL, "0.5")))
        .isEqualTo(0.5);
  }

  /**
   * The simulated kubelet holds every digest of a committed challenge in a list: fine only because
   * the sandbox's calibration keeps challenges small. Lifting the 240-round cap for committed
   * challenges changed nothing here: the fastest catalog product on an 8-GPU node gets 46 rounds.
   */
  @Test
  void theSandboxsCalibrationKeepsEveryCommittedChallengeSmallEnoughToHoldEachDigest() {
    Map<String, String> env = ChallengeAnswers.operatorEnvironment();
    TimingModel sandbox =
        new TimingModel(
            Double.parseDouble(env.get("GPUPOOL_TRUST_CHALLENGE_EFFICIENCY")),
            1.6,
            Duration.ofSeconds(20));
    int rounds =
        sandbox.roundsFor(
            Integer.parseInt(env.get("GPUPOOL_TRUST_CHALLENGE_SIZE")),
            GpuCatalog.defaults().lookup("NVIDIA-H200", 0, null),
            8,
            Duration.parse("PT" + env.get("GPUPOOL_TRUST_CHALLENGE_TARGET").toUpperCase()),
            Answering.COMMIT_THEN_OPEN);
    assertThat(rounds).isEqualTo(46);
  }
}
