package io.gpupool.operator.billing;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodUsageTest {
  private static final Instant T0 = Instant.parse("2026-01-01T10:00:00.123Z");
  private static final Instant T1 = Instant.parse("2026-01-01T11:30:00Z");

  private static PodBuilder pod(String resource, String amount) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("p")
        .withNamespace("ns")
        .withUid("u1")
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("worker")
        .withNewResources()
        .withLimits(Map.of(resource, new Quantity(amount)))
        .endResources()
        .endContainer()
        .endSpec();
  }

  private static Pod running(Instant startedAt) {
    return pod("nvidia.com/gpu", "2")
        .withNewStatus()
        .withPhase("Running")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("sidecar")
                .withNewState()
                .withNewRunning()
                .withStartedAt(T1.toString())
                .endRunning()
                .endState()
                .build(),
            new ContainerStatusBuilder()
                .withName("worker")
                .withNewState()
                .withNewRunning()
                .withStartedAt(startedAt.toString())
                .endRunning()
                .endState()
                .build())
        .endStatus()
        .build();
  }

  private static Pod terminated(Instant startedAt, Instant finishedAt, String phase) {
    return pod("nvidia.com/gpu", "1")
        .withNewStatus()
        .withPhase(phase)
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName("worker")
                .withNewState()
                .withNewTerminated()
                .withStartedAt(startedAt == null ? null : startedAt.toString())
                .withFinishedAt(finishedAt == null ? null : finishedAt.toString())
                .withExitCode(0)
                .endTerminated()
                .endState()
                .build())
        .endStatus()
        .build();
  }

  private static Node node(String replicas, String product) {
    return new NodeBuilder()
        .withNewMetadata()
        .withName("n")
        .addToLabels("nvidia.com/gpu.replicas", replicas)
        .addToLabels("nvidia.com/gpu.product", product)
        .endMetadata()
        .build();
  }

  @Test
  void runningPodStartsAtTheWorkerContainersStartAndHasNoEnd() {
    Pod p = running(T0);
    assertThat(PodUsage.start(p)).isEqualTo(T0);
    assertThat(PodUsage.end(p, null)).isNull();
  }

  @Test
  void terminatedPodEndsAtFinishedAtEvenWhenDeletedLater() {
    Pod p = terminated(T0, T1, "Succeeded");
    assertThat(PodUsage.start(p)).isEqualTo(T0);
    assertThat(PodUsage.end(p, null)).isEqualTo(T1);
    assertThat(PodUsage.end(p, T1.plusSeconds(600))).isEqualTo(T1);
    assertThat(PodUsage.terminal(p)).isTrue();
  }

  @Test
  void terminatedWithoutStartHasNoStart() {
    assertThat(PodUsage.start(terminated(null, T1, "Failed"))).isNull();
  }

  @Test
  void podDeletedWhileRunningEndsAtItsDeletionTimestampOrTheDeleteEvent() {
    Pod p = running(T0);
    Instant deleted = T1.plusSeconds(5);
    assertThat(PodUsage.end(p, deleted)).isEqualTo(deleted);
    p.getMetadata().setDeletionTimestamp(T1.toString());
    assertThat(PodUsage.end(p, deleted)).isEqualTo(T1);
  }

  @Test
  void podNeverStartedHasNoStart() {
    Pod p = pod("nvidia.com/gpu", "1").withNewStatus().withPhase("Pending").endStatus().build();
    assertThat(PodUsage.start(p)).isNull();
    assertThat(PodUsage.start(pod("nvidia.com/gpu", "1").build())).isNull();
  }

  @Test
  void wholeGpusAreAThousandMilliEach() {
    assertThat(PodUsage.milliGpus(running(T0), PodUsage.replicas(node("1", "A100"))))
        .isEqualTo(2000);
  }

  @Test
  void timeSliceSharesAreAThousandOverReplicasRoundedDown() {
    Pod shared = pod("nvidia.com/gpu.shared", "1").build();
    assertThat(PodUsage.milliGpus(shared, PodUsage.replicas(node("4", "A100")))).isEqualTo(250);
    assertThat(PodUsage.milliGpus(shared, PodUsage.replicas(node("3", "A100")))).isEqualTo(333);
    Pod twoShares = pod("nvidia.com/gpu", "2").build();
    assertThat(PodUsage.milliGpus(twoShares, 4)).isEqualTo(500);
  }

  @Test
  void missingOrBadReplicasCountAsOne() {
    assertThat(PodUsage.replicas(null)).isEqualTo(1);
    assertThat(PodUsage.replicas(node("x", "A100"))).isEqualTo(1);
    assertThat(PodUsage.replicas(node("0", "A100"))).isEqualTo(1);
  }

  @Test
  void sharedProductIsPricedAsTheProduct() {
    assertThat(PodUsage.product(node("4", "NVIDIA-A100-SXM4-80GB-SHARED")))
        .isEqualTo("NVIDIA-A100-SXM4-80GB");
    assertThat(PodUsage.product(node("1", "NVIDIA-A100-SXM4-80GB")))
        .isEqualTo("NVIDIA-A100-SXM4-80GB");
  }

  @Test
  void jobRefComesFromLabelsAndTheOwnerUid() {
    Pod p =
        new PodBuilder(running(T0))
            .editMetadata()
            .addToLabels("gpupool.io/job-name", "train")
            .addToLabels("gpupool.io/job-kind", "TrainingJob")
            .addNewOwnerReference()
            .withKind("TrainingJob")
            .withName("train")
            .withUid("job-uid-1")
            .withApiVersion("gpupool.io/v1alpha1")
            .endOwnerReference()
            .endMetadata()
            .build();
    assertThat(JobRef.of(p)).contains(new JobRef("TrainingJob", "ns", "train", "job-uid-1"));
    assertThat(JobRef.of(running(T0))).isEmpty();
  }

  @Test
  void withoutAWorkerTheGpuContainerIsBilledNotASidecar() {
    Pod p =
        new PodBuilder()
            .withNewMetadata()
            .withName("serve")
            .withUid("u2")
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("proxy")
            .endContainer()
            .addNewContainer()
            .withName("server")
            .withNewResources()
            .withLimits(Map.of("nvidia.com/gpu.shared", new Quantity("1")))
            .endResources()
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase("Running")
            .withContainerStatuses(
                new ContainerStatusBuilder()
                    .withName("proxy")
                    .withNewState()
                    .withNewRunning()
                    .withStartedAt(T1.toString())
                    .endRunning()
                    .endState()
                    .build(),
                new ContainerStatusBuilder()
                    .withName("server")
                    .withNewState()
                    .withNewRunning()
                    .withStartedAt(T0.toString())
                    .endRunning()
                    .endState()
                    .build())
            .endStatus()
            .build();
    assertThat(PodUsage.start(p)).isEqualTo(T0);
    assertThat(PodUsage.milliGpus(p, 2)).isEqualTo(500);
  }
}
