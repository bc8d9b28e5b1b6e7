package io.gpupool.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gpupool.api.v1alpha1.TrainingJobPhase;
import io.gpupool.api.v1alpha1.TrainingJobStatus;
import org.junit.jupiter.api.Test;

class StatusReplaceTest {

  @Test
  void replacesTheWholeStatusWithoutIndexOpsOrNulls() throws Exception {
    TrainingJobStatus status = new TrainingJobStatus();
    status.phase = TrainingJobPhase.Pending;
    status.restarts = 2;
    status.placements = null;

    JsonNode ops = Serialization.jsonMapper().readTree(StatusReplace.patch(status));

    assertThat(ops).hasSize(1);
    assertThat(ops.get(0).path("op").asText()).isEqualTo("add");
    assertThat(ops.get(0).path("path").asText()).isEqualTo("/status");
    JsonNode value = ops.get(0).path("value");
    assertThat(value.path("phase").asText()).isEqualTo("Pending");
    assertThat(value.path("restarts").asInt()).isEqualTo(2);
    assertThat(value.has("placements")).as("cleared by absence, not null").isFalse();
  }

  @Test
  void aMissingStatusBecomesAnEmptyOne() throws Exception {
    JsonNode ops = Serialization.jsonMapper().readTree(StatusReplace.patch(null));
    assertThat(ops.get(0).path("value").isObject()).isTrue();
  }
}
