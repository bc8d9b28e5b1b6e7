package io.gpupool.operator.allocation;

import static io.gpupool.operator.allocation.JobPods.JOB;
import static io.gpupool.operator.allocation.JobPods.pod;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodTrackerTest {

  /**
   * The soak's over-commit after failovers: a rank of a running gang failed while no leader led, so
   * the new leader found no live pod on its node and reserved only the survivors' GPUs; another
   * gang was placed on the failed rank's node, then the first gang restarted onto it as its status
   * said, and the kubelet refused one of them (UnexpectedAdmissionError).
   */
  @Test
  void aNewLeaderReservesWhatStatusPlacesEvenWhereTheRankEnded() {
    List<Pod> pods =
        List.of(pod("llm-worker-0", "n1", 1, "Failed"), pod("llm-worker-1", "n2", 1, "Running"));
    Map<String, Map<String, Integer>> claims = Map.of(JOB, Map.of("n1", 1, "n2", 1));

    assertThat(PodTracker.standing(pods, Map.of()).get(JOB))
        .as("from live pods alone the failed rank's node looks free")
        .isEqualTo(Map.of("n2", 1));
    assertThat(PodTracker.standing(pods, claims).get(JOB)).isEqualTo(Map.of("n1", 1, "n2", 1));
  }

  @Test
  void livePodsBeyondTheirJobsPlacementCountToo() {
    // An earlier generation still running on n3 while status already names the new one.
    List<Pod> pods =
        List.of(pod("llm-worker-0", "n3", 2, "Running"), pod("other", "n1", 1, "Running"));
    Map<String, Map<String, Integer>> held =
        PodTracker.standing(pods, Map.of(JOB, Map.of("n1", 1)));
    assertThat(held.get(JOB)).isEqualTo(Map.of("n1", 1, "n3", 2));
    assertThat(held).hasSize(1);
  }
}
