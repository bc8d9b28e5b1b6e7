package io.gpupool.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.TolerationBuilder;
import io.gpupool.api.v1alpha1.GpuRequirements;
import io.gpupool.api.v1alpha1.TrainingJob;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OwnedObjectsTest {
  private static TrainingJob job() {
    TrainingJob job = new TrainingJob();
    job.setMetadata(
        new ObjectMetaBuilder().withName("pretrain").withNamespace("ml").withUid("uid-1").build());
    return job;
  }

  @Test
  void gpuSlotsAreRequestedAndLimitedCpuOnlyRequestedMemoryBoth() {
    GpuRequirements spec = new GpuRequirements();
    spec.cpu = "4";
    spec.memory = "16Gi";
    ResourceRequirements r = OwnedObjects.resources("nvidia.com/gpu.shared", 3, spec);
    assertThat(r.getRequests())
        .containsExactly(
            Map.entry("nvidia.com/gpu.shared", new Quantity("3")),
            Map.entry("cpu", new Quantity("4")),
            Map.entry("memory", new Quantity("16Gi")));
    assertThat(r.getLimits())
        .containsExactly(
            Map.entry("nvidia.com/gpu.shared", new Quantity("3")),
            Map.entry("memory", new Quantity("16Gi")));
  }

  @Test
  void withoutSpecResourcesOnlyTheGpuSlotsAreAsked() {
    ResourceRequirements r = OwnedObjects.resources("nvidia.com/gpu", 2, null);
    assertThat(r.getRequests()).containsOnlyKeys("nvidia.com/gpu");
    assertThat(r.getLimits()).containsOnlyKeys("nvidia.com/gpu");
  }

  @Test
  void aHeadlessServiceNamesEveryPodItSelectsReadyOrNot() {
    Service svc =
        OwnedObjects.headlessService(
            job(), "pretrain", Map.of("a", "1"), Map.of("a", "1", "b", "2"), "rendezvous", 29500);
    assertThat(svc.getMetadata().getNamespace()).isEqualTo("ml");
    assertThat(svc.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(
            o -> {
              assertThat(o.getUid()).isEqualTo("uid-1");
              assertThat(o.getController()).isTrue();
            });
    assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(svc.getSpec().getPublishNotReadyAddresses()).isTrue();
    assertThat(svc.getSpec().getSelector()).containsOnlyKeys("a", "b");
    assertThat(svc.getSpec().getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("rendezvous");
              assertThat(p.getPort()).isEqualTo(29500);
            });
  }

  @Test
  void aBoundPodIsOnItsNodeRunsOnceAndToleratesTheGpuTaint() {
    Pod pod =
        OwnedObjects.boundPod(
                job(),
                "pretrain-worker-1",
                Map.of("a", "1"),
                "node-7",
                "pretrain-worker-1",
                "pretrain",
                new ContainerBuilder().withName("worker").build())
            .build();
    assertThat(pod.getMetadata().getNamespace()).isEqualTo("ml");
    assertThat(pod.getMetadata().getOwnerReferences()).hasSize(1);
    assertThat(pod.getSpec().getNodeName()).isEqualTo("node-7");
    assertThat(pod.getSpec().getHostname()).isEqualTo("pretrain-worker-1");
    assertThat(pod.getSpec().getSubdomain()).isEqualTo("pretrain");
    assertThat(pod.getSpec().getRestartPolicy()).isEqualTo("Never");
    assertThat(pod.getSpec().getTolerations())
        .containsExactly(
            new TolerationBuilder()
                .withKey("nvidia.com/gpu")
                .withOperator("Exists")
                .withEffect("NoSchedule")
                .build());
    assertThat(pod.getSpec().getContainers())
        .extracting(c -> c.getName())
        .containsExactly("worker");
  }
}
