package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.pool.PoolFile;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The simulated weights fetch: a cold node pulls for size / bandwidth before the pod starts, a node
 * that filled the same cache directory before finds it at once, an emptyDir always pulls.
 */
class WeightsPullsIT {
  private static final long GIB = 1L << 30;
  private static Sandbox sandbox;
  private static KubernetesClient client;

  @BeforeAll
  static void start() {
    sandbox =
        Sandbox.builder()
            .pool(
                PoolFile.parse(
                    """
                    providers:
                      - name: p1
                        payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                        prices: {NVIDIA-A100-SXM4-80GB: "1.20"}
                    nodeGroups:
                      - namePrefix: a100
                        count: 2
                        provider: p1
                        region: eu-west
                        zone: eu-west-1a
                        gpu: {product: NVIDIA-A100-SXM4-80GB, count: 2, memoryMiB: 81920,
                              family: ampere, computeMajor: 8, computeMinor: 0}
                    """))
            .timeScale(1)
            .start();
    client = sandbox.client();
    // 1 GiB per second on both nodes: 1.5 GiB takes 1.5 s.
    for (String node : new String[] {"a100-1", "a100-2"}) {
      client
          .nodes()
          .withName(node)
          .edit(
              n -> {
                n.getMetadata()
                    .getAnnotations()
                    .put("sandbox.gpupool.io/weights-bandwidth-mib", "1024");
                return n;
              });
    }
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  private static Pod pod(String name, String node, boolean cached) {
    Volume volume =
        cached
            ? new VolumeBuilder()
                .withName("gpupool-weights")
                .withNewHostPath()
                .withPath("/var/lib/gpupool/weights/abc123")
                .withType("DirectoryOrCreate")
                .endHostPath()
                .build()
            : new VolumeBuilder()
                .withName("gpupool-weights")
                .withNewEmptyDir()
                .endEmptyDir()
                .build();
    return client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace("default")
                .endMetadata()
                .withNewSpec()
                .withNodeName(node)
                .withRestartPolicy("Never")
                .withVolumes(volume)
                .addNewInitContainer()
                .withName("fetch-weights")
                .withImage("fetcher:1")
                .addNewEnv()
                .withName("GPUPOOL_WEIGHTS_BYTES")
                .withValue(Long.toString(3 * GIB / 2))
                .endEnv()
                .addNewVolumeMount()
                .withName("gpupool-weights")
                .withMountPath("/weights")
                .endVolumeMount()
                .endInitContainer()
                .addNewContainer()
                .withName("server")
                .withImage("server:1")
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  private static Pod await(String name, Predicate<Pod> ok, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    Pod last = null;
    while (System.nanoTime() < deadline) {
      last = client.pods().inNamespace("default").withName(name).get();
      if (last != null && ok.test(last)) {
        return last;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return fail("timed out waiting for pod " + name + " " + what + "; last seen: " + last);
  }

  private static boolean running(Pod p) {
    return p.getStatus() != null && "Running".equals(p.getStatus().getPhase());
  }

  private static ContainerStateTerminated fetch(Pod p) {
    return p.getStatus().getInitContainerStatuses().get(0).getState().getTerminated();
  }

  private static double seconds(ContainerStateTerminated t) {
    return Duration.between(Instant.parse(t.getStartedAt()), Instant.parse(t.getFinishedAt()))
            .toMillis()
        / 1000.0;
  }

  @Test
  void aColdNodePullsForSizeOverBandwidthAndTheNextPodThereFindsTheWeights() {
    pod("cold", "a100-1", true);
    Pod pulling =
        await(
            "cold",
            p ->
                p.getStatus() != null
                    && p.getStatus().getInitContainerStatuses() != null
                    && !p.getStatus().getInitContainerStatuses().isEmpty(),
            "initializing");
    assertThat(pulling.getStatus().getPhase()).isEqualTo("Pending");
    assertThat(pulling.getStatus().getInitContainerStatuses().get(0).getState().getRunning())
        .isNotNull();
    Pod cold = await("cold", WeightsPullsIT::running, "Running");
    assertThat(fetch(cold).getMessage()).isEqualTo("Miss");
    assertThat(fetch(cold).getExitCode()).isZero();
    assertThat(seconds(fetch(cold))).isBetween(1.4, 3.0);

    client.pods().inNamespace("default").withName("cold").delete();
    long t0 = System.nanoTime();
    pod("warm", "a100-1", true);
    Pod warm = await("warm", WeightsPullsIT::running, "Running");
    assertThat(fetch(warm).getMessage()).isEqualTo("Hit");
    assertThat(seconds(fetch(warm))).isLessThan(0.5);
    assertThat((System.nanoTime() - t0) / 1e9).as("warm start, wall seconds").isLessThan(1.4);

    pod("other-node", "a100-2", true);
    assertThat(fetch(await("other-node", WeightsPullsIT::running, "Running")).getMessage())
        .as("the cache is per node")
        .isEqualTo("Miss");
    pod("empty-dir", "a100-1", false);
    assertThat(fetch(await("empty-dir", WeightsPullsIT::running, "Running")).getMessage())
        .as("an emptyDir starts empty")
        .isEqualTo("Miss");
  }
}
