package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DishonestTrainingTest {

  private static Node node(Map<String, String> labels) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName("n")
        .withLabels(labels)
        .endMetadata()
        .build();
  }

  @Test
  void aLabelledNodeMakesItsProcessesSkipSteps() {
    assertThat(DishonestTraining.env(node(Map.of(DishonestTraining.SKIP_STEPS_LABEL, "3"))))
        .containsExactly(Map.entry("SANDBOX_SKIP_OPTIMIZER_STEPS", "3"));
  }

  @Test
  void honestOrMislabelledNodesAddNothing() {
    assertThat(DishonestTraining.env(node(Map.of()))).isEmpty();
    assertThat(DishonestTraining.env(null)).isEmpty();
    assertThat(DishonestTraining.env(node(Map.of(DishonestTraining.SKIP_STEPS_LABEL, "0"))))
        .isEmpty();
    assertThat(DishonestTraining.env(node(Map.of(DishonestTraining.SKIP_STEPS_LABEL, "x; rm"))))
        .isEmpty();
  }

  @Test
  void theDefaultPoolHasOneDishonestTrainingNodeWithGenuineGpus() {
    PoolSpec pool = PoolFile.loadDefault();
    var groups =
        pool.nodeGroups().stream()
            .filter(g -> g.labels() != null)
            .filter(g -> g.labels().containsKey(DishonestTraining.SKIP_STEPS_LABEL))
            .toList();
    assertThat(groups)
        .singleElement()
        .satisfies(
            g -> {
              assertThat(g.count()).isEqualTo(1);
              assertThat(g.provider()).isEqualTo("bargain-h100-hub");
              assertThat(g.gpu().product()).isEqualTo("NVIDIA-GeForce-RTX-4090");
              // genuine hardware: nothing for the hardware challenges to catch
              assertThat(g.labels())
                  .doesNotContainKeys(
                      ChallengeAnswers.REAL_PRODUCT_LABEL, ChallengeAnswers.ANSWER_LABEL);
            });
    assertThat(pool.providers())
        .filteredOn(p -> p.name().equals("bargain-h100-hub"))
        .singleElement()
        .satisfies(p -> assertThat(p.prices()).containsKey("NVIDIA-GeForce-RTX-4090"));
  }
}
