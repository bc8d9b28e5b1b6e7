package io.gpupool.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.Sandbox;
import io.gpupool.sandbox.pool.PoolFile;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A kubelet whose pod watch had to list again (410 Gone after a watch timed out under load): the
 * Fabric8 informer hands its handlers the list's adds and updates first and the deletions of pods
 * missing from it after, so a pod placed on a GPU freed by a deletion arrives while the deleted pod
 * is still counted. A real kubelet gets the removals first and admits the pod; so must the
 * simulator, or it refuses it (UnexpectedAdmissionError) for a GPU nothing holds.
 */
class RelistOrderIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final CountDownLatch kubeletHeld = new CountDownLatch(1);
  private final CountDownLatch kubeletGoes = new CountDownLatch(1);
  private final AtomicReference<Pod> deliveredFirst = new AtomicReference<>();
  private Sandbox sandbox;
  private KubernetesClient client;

  @BeforeEach
  void start() {
    sandbox =
        Sandbox.builder()
            .pool(
                PoolFile.parse(
                    """
                    providers:
                      - name: p1
                        payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                        prices: {NVIDIA-GeForce-RTX-4090: "0.40"}
                    nodeGroups:
                      - namePrefix: solo
                        count: 1
                        provider: p1
                        region: eu-west
                        zone: eu-west-1a
                        gpu: {product: NVIDIA-GeForce-RTX-4090, count: 1, memoryMiB: 24564,
                              family: ada-lovelace, computeMajor: 8, computeMinor: 9}
                    """))
            .log(this::deliverOutOfOrderAtTheGate)
            .start();
    client = sandbox.client();
  }

  @AfterEach
  void stop() {
    kubeletGoes.countDown();
    if (sandbox != null) {
      sandbox.close();
    }
  }

  /**
   * On the kubelet's thread: starting the pod "gate" holds it until the test lets it go, then it
   * handles the pod the test set aside before the events queued meanwhile, as a relist would.
   */
  private void deliverOutOfOrderAtTheGate(String line) {
    if (!line.startsWith("pod/default/gate Running")) {
      return;
    }
    kubeletHeld.countDown();
    try {
      kubeletGoes.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Pod pod = deliveredFirst.get();
    if (pod != null) {
      sandbox.kubelet().podEventOnKubeletThread(pod);
    }
  }

  @Test
  void aPodOnAGpuFreedByADeletionIsAdmittedWhenTheDeletionArrivesAfterIt() {
    create("old", 1);
    await("old", p -> "Running".equals(phase(p)), "Running");
    create("gate", 0);
    try {
      assertThat(kubeletHeld.await(20, TimeUnit.SECONDS)).as("kubelet held").isTrue();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    client.pods().inNamespace("default").withName("old").delete();
    eventually(
        () -> client.pods().inNamespace("default").withName("old").get(),
        p -> p == null,
        "old pod gone");
    deliveredFirst.set(create("new", 1));
    kubeletGoes.countDown();
    sandbox.kubelet().sync();

    Pod placed = await("new", p -> phase(p) != null && !"Pending".equals(phase(p)), "decided");
    assertThat(phase(placed))
        .as("admitted on the GPU the deleted pod left, not refused: %s", placed.getStatus())
        .isEqualTo("Running");
    assertThat(sandbox.kubelet().gpusInUse("solo-1")).isEqualTo(1);
  }

  private Pod create(String name, int gpus) {
    return client
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace("default")
                .endMetadata()
                .withNewSpec()
                .withNodeName("solo-1")
                .withRestartPolicy("Never")
                .addNewContainer()
                .withName("main")
                .withImage("trainer:1")
                .withNewResources()
                .addToLimits(
                    gpus > 0
                        ? Map.of("nvidia.com/gpu", new Quantity(String.valueOf(gpus)))
                        : Map.of())
                .endResources()
                .endContainer()
                .endSpec()
                .build())
        .create();
  }

  private static String phase(Pod p) {
    return p.getStatus() == null ? null : p.getStatus().getPhase();
  }

  private Pod await(String name, Predicate<Pod> condition, String what) {
    return eventually(
        () -> client.pods().inNamespace("default").withName(name).get(),
        p -> p != null && condition.test(p),
        "pod " + name + " " + what);
  }

  private static <T> T eventually(
      java.util.function.Supplier<T> get, Predicate<T> ok, String what) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    T last = null;
    while (System.nanoTime() < deadline) {
      last = get.get();
      if (ok.test(last)) {
        return last;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return fail("timed out waiting for " + what + "; last seen: " + last);
  }
}
