package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.gpupool.api.v1alpha1.InferenceJobStatus;
import io.gpupool.api.v1alpha1.ShardPlacement;
import io.gpupool.operator.billing.PlacedTerms;
import io.gpupool.operator.billing.PlacementTerms;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A tenant allowed to edit pods in its namespace rewrites what the operator wrote on its replica's
 * pods (provider label, GPUs, share, product): the status shows what the operator placed.
 */
class ReplicaReportTest {
  private static final PlacedTerms TWO_GPUS =
      new PlacedTerms("n1", "honest", new PlacementTerms(BigInteger.TEN, 2000));
  private static final PlacedTerms A_QUARTER =
      new PlacedTerms("n2", "honest", new PlacementTerms(BigInteger.TEN, 250));

  private final ReplicaReport.Placements placements =
      new ReplicaReport.Placements(
          pod ->
              switch (pod.getMetadata().getName()) {
                case "llm-0" -> Optional.of(TWO_GPUS);
                case "llm-1" -> Optional.of(A_QUARTER);
                default -> Optional.empty();
              },
          node -> Optional.of("RTX-" + node));

  private static Pod pod(
      String name, int replica, String node, String provider, String gpus, String milli) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .addToLabels(InferenceGroup.SHARD_LABEL, "0")
        .addToLabels("gpupool.io/provider", provider)
        .withAnnotations(
            Map.of(
                InferenceGroup.GPU_PRODUCT_ANNOTATION, "H100",
                InferenceGroup.GPUS_ANNOTATION, gpus,
                InferenceGroup.GPU_MILLI_ANNOTATION, milli))
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .endSpec()
        .build();
  }

  private static List<ReplicaGroup> groups(Pod... pods) {
    return java.util.stream.IntStream.range(0, pods.length)
        .mapToObj(i -> new ReplicaGroup(i, "g" + i, 1, "h", false, List.of(pods[i])))
        .toList();
  }

  private InferenceJobStatus report(List<ReplicaGroup> groups) {
    InferenceJobStatus status = new InferenceJobStatus();
    ReplicaReport.fill(status, groups, placements);
    return status;
  }

  @Test
  void theStatusShowsTheOperatorsPlacementWhateverThePodsSay() {
    InferenceJobStatus asPlaced =
        report(
            groups(
                pod("llm-0", 0, "n1", "honest", "2", "1000"),
                pod("llm-1", 1, "n2", "honest", "1", "250")));
    InferenceJobStatus rewritten =
        report(
            groups(
                pod("llm-0", 0, "n1", "colluding", "8", "1"),
                pod("llm-1", 1, "n2", "colluding", "4", "1000")));
    for (InferenceJobStatus s : List.of(asPlaced, rewritten)) {
      assertThat(s.totalGpus).isEqualTo(3); // 2 whole GPUs + a quarter, rounded up
      assertThat(s.replicas.get(0).tensorParallelSize).isEqualTo(2);
      ShardPlacement whole = s.replicas.get(0).shards.get(0);
      assertThat(whole.provider).isEqualTo("honest");
      assertThat(whole.gpuModel).isEqualTo("RTX-n1");
      assertThat(whole.gpus).isEqualTo(2);
      assertThat(whole.gpuMilli).isNull();
      ShardPlacement share = s.replicas.get(1).shards.get(0);
      assertThat(share.gpus).isEqualTo(1);
      assertThat(share.gpuMilli).isEqualTo(250);
    }
  }

  @Test
  void aPodTheOperatorHasNoTermsForIsShownAsItSays() {
    InferenceJobStatus s = report(groups(pod("other", 0, "n3", "somebody", "3", "1000")));
    ShardPlacement shard = s.replicas.get(0).shards.get(0);
    assertThat(shard.provider).isEqualTo("somebody");
    assertThat(shard.gpuModel).isEqualTo("H100");
    assertThat(shard.gpus).isEqualTo(3);
    assertThat(s.totalGpus).isEqualTo(3);
  }

  /**
   * The step that places a sharded replica sees its pods arrive one by one while the binder creates
   * them: it lists only the groups it began with, the binder's wake-up lists the new one whole.
   */
  @Test
  void aGroupBeingCreatedIsListedOnlyOnceTheBinderIsDone() {
    ReplicaGroup serving =
        new ReplicaGroup(0, "g0", 1, "h", false, List.of(pod("a", 0, "n1", "p", "1", "1000")));
    ReplicaGroup half =
        new ReplicaGroup(1, "g1", 2, "h", false, List.of(pod("b", 1, "n2", "p", "4", "1000")));
    assertThat(ReplicaReport.listed(List.of(serving, half), java.util.Set.of("g0"), true))
        .containsExactly(serving);
    assertThat(ReplicaReport.listed(List.of(serving, half), java.util.Set.of("g0"), false))
        .as("created: the wake-up's step lists it")
        .containsExactly(serving, half);
  }
}
