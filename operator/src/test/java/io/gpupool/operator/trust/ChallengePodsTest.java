package io.gpupool.operator.trust;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.gpupool.scheduler.trust.Challenge;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ChallengePodsTest {
  static final Challenge C = new Challenge("0123456789abcdef0123456789abcdef", 64, 10);

  @Test
  void thePodIsBoundToTheNodeTakesItsGpusAndCarriesNoJobLabels() {
    Pod pod = ChallengePods.build("gpupool-system", "us-east-h100-1", 8, C, "img:1");
    assertThat(pod.getSpec().getNodeName()).isEqualTo("us-east-h100-1");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getMetadata().getName()).isEqualTo("gpupool-challenge-us-east-h100-1-01234567");
    assertThat(pod.getMetadata().getLabels())
        .containsEntry(ChallengePods.CHALLENGE_LABEL, "us-east-h100-1")
        .doesNotContainKeys("gpupool.io/job-name", "gpupool.io/job-kind");
    var container = pod.getSpec().getContainers().get(0);
    assertThat(container.getResources().getLimits().get("nvidia.com/gpu").getAmount())
        .isEqualTo("8");
    assertThat(ChallengePods.challengeOf(pod)).contains(C);
  }

  @Test
  void theAnswerIsTheTerminationMessageOfASucceededPod() {
    Pod pod = ChallengePods.build("ns", "n", 1, C, "img:1");
    assertThat(ChallengePods.result(pod)).isEmpty();
    pod.setStatus(terminated("Succeeded", 0, "abc"));
    assertThat(ChallengePods.result(pod).orElseThrow().answer()).contains("abc");
    pod.setStatus(terminated("Failed", 1, null));
    var failed = ChallengePods.result(pod).orElseThrow();
    assertThat(failed.answer()).isEmpty();
    assertThat(failed.failure()).isEqualTo("challenge pod Failed (Error) without an answer");
  }

  @Test
  void randomChallengesStayWithinTheBudget() {
    ChallengeBudget budget = new ChallengeBudget(0.02);
    Instant t0 = Instant.parse("2026-12-06T04:00:00Z");
    // 100 GPUs × 3600 s × 2 % = 7200 GPU-seconds an hour.
    assertThat(budget.allows(t0, 100, 7200)).isTrue();
    budget.spend(t0, 7000);
    assertThat(budget.allows(t0, 100, 201)).isFalse();
    assertThat(budget.allows(t0.plus(Duration.ofMinutes(61)), 100, 7200)).isTrue();
  }

  static io.fabric8.kubernetes.api.model.PodStatus terminated(
      String phase, int exit, String message) {
    return new PodStatusBuilder()
        .withPhase(phase)
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("challenge")
                .withState(
                    new ContainerStateBuilder()
                        .withNewTerminated()
                        .withExitCode(exit)
                        .withReason(exit == 0 ? "Completed" : "Error")
                        .withMessage(message)
                        .endTerminated()
                        .build())
                .build())
        .build();
  }
}
