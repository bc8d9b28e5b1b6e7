package io.gpupool.operator.workload;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OneShotPodsTest {
  @Test
  void aOneShotPodIsBoundRunsOnceAndHoldsItsGpuSlots() {
    Pod pod =
        OneShotPods.bound(
            "ns",
            "check-1",
            Map.of("gpupool.io/role", "probe"),
            "node-a",
            4,
            new ContainerBuilder()
                .withName("probe")
                .withImage("img:1")
                .withCommand("python3", "x.py")
                .addNewEnv()
                .withName("K")
                .withValue("v")
                .endEnv()
                .build());

    assertThat(pod.getMetadata().getName()).isEqualTo("check-1");
    assertThat(pod.getMetadata().getNamespace()).isEqualTo("ns");
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("gpupool.io/role", "probe")
        .containsEntry(OneShotPods.MANAGED_BY, "gpupool");
    assertThat(pod.getSpec().getNodeName()).as("bound by the operator").isEqualTo("node-a");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getSpec().getTolerations())
        .singleElement()
        .satisfies(
            t -> {
              assertThat(t.getKey()).isEqualTo("nvidia.com/gpu");
              assertThat(t.getOperator()).isEqualTo("Exists");
              assertThat(t.getEffect()).isEqualTo("NoSchedule");
            });
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(pod.getSpec().getContainers()).hasSize(1);
    assertThat(c.getName()).isEqualTo("probe");
    assertThat(c.getImage()).isEqualTo("img:1");
    assertThat(c.getCommand()).containsExactly("python3", "x.py");
    assertThat(c.getEnv()).singleElement().satisfies(e -> assertThat(e.getValue()).isEqualTo("v"));
    assertThat(c.getTerminationMessagePolicy()).isEqualTo("File");
    assertThat(c.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("4"));
    assertThat(c.getResources().getRequests()).containsEntry("nvidia.com/gpu", new Quantity("4"));
  }
}
