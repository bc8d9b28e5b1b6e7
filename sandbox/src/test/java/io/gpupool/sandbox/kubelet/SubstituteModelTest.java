package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SubstituteModelTest {
  private static Node node(Map<String, String> labels) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName("n")
        .withLabels(labels)
        .endMetadata()
        .build();
  }

  @Test
  void onlyANodeLabelledSubstituteSwitchesTheServersModel() {
    assertThat(SubstituteModel.env(node(Map.of(SubstituteModel.LABEL, "substitute"))))
        .containsExactly(Map.entry("GPUPOOL_SANDBOX_SUBSTITUTE_MODEL", "1"));
    assertThat(SubstituteModel.env(node(Map.of(SubstituteModel.LABEL, "honest")))).isEmpty();
    assertThat(SubstituteModel.env(node(Map.of()))).isEmpty();
    assertThat(SubstituteModel.env(null)).isEmpty();
  }
}
