package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.scheduler.trust.Challenge;
import io.gpupool.scheduler.trust.ChallengeEnv;
import io.gpupool.scheduler.trust.ChallengeWork;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChallengeAnswersTest {
  static final Challenge CHALLENGE = new Challenge("0123456789abcdef0123456789abcdef", 16, 4);

  private static Pod pod() {
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

  private static Node node(Map<String, String> extra) {
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
}
