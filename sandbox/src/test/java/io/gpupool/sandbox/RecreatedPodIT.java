package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.gpupool.sandbox.kubelet.KubeletSimulator;
import io.gpupool.sandbox.pool.PoolFile;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pod deleted and created again under the same name (a TrainingJob placed again after an eviction
 * keeps its pod names) while the kubelet is behind: what the kubelet still does for the deleted pod
 * must not land on its successor. A real kubelet writes status only to the pod UID it runs; the
 * simulator once wrote by name, so the end of the deleted pod turned the new one Succeeded while it
 * ran, and the operator handed out its GPU (UnexpectedAdmissionError).
 */
class RecreatedPodIT {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** 50 sandbox seconds per wall second: the first pod's 50 s end 1 s after it started. */
  private static final double TIME_SCALE = 50;

  private final CountDownLatch kubeletHeld = new CountDownLatch(1);
  private final CountDownLatch kubeletGoes = new CountDownLatch(1);
  private final List<String> kubeletLog = new CopyOnWriteArrayList<>();
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
                        count: 2
                        provider: p1
                        region: eu-west
                        zone: eu-west-1a
                        gpu: {product: NVIDIA-GeForce-RTX-4090, count: 1, memoryMiB: 24564,
                              family: ada-lovelace, computeMajor: 8, computeMinor: 9}
                    """))
            .timeScale(TIME_SCALE)
            .log(this::holdKubeletAtTheGate)
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
   * Runs on the kubelet's one thread: starting the pod "gate" stops it until the test lets it go,
   * as a kubelet seconds behind its API server under load.
   */
  private void holdKubeletAtTheGate(String line) {
    kubeletLog.add(line);
    if (line.startsWith("pod/default/gate Running")) {
      kubeletHeld.countDown();
      try {
        kubeletGoes.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void theEndOfADeletedPodIsNotWrittenOntoItsSameNamedSuccessor() throws Exception {
    create("trainer", "solo-1", 1, Map.of(KubeletSimulator.RUN_SECONDS_ENV, "50"));
    Pod first = await("trainer", p -> "Running".equals(phase(p)), "Running");
    long endsAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000);

    create("gate", "solo-1", 0, Map.of());
    assertThat(kubeletHeld.await(20, TimeUnit.SECONDS)).as("kubelet held at the gate").isTrue();
    // The first pod's end falls due while the kubelet is held: it runs before the events below.
    TimeUnit.NANOSECONDS.sleep(Math.max(0, endsAt - System.nanoTime()) + 300_000_000L);
    client.pods().inNamespace("default").withName("trainer").delete();
    eventually(
        () -> client.pods().inNamespace("default").withName("trainer").get(),
        p -> p == null,
        "first pod gone");
    Pod second = create("trainer", "solo-2", 1, Map.of());
    String secondUid = second.getMetadata().getUid();
    assertThat(secondUid).isNotEqualTo(first.getMetadata().getUid());

    List<String> secondPhases = new CopyOnWriteArrayList<>();
    try (Watch ignored =
        client
            .pods()
            .inNamespace("default")
            .withName("trainer")
            .watch(
                new Watcher<>() {
                  @Override
                  public void eventReceived(Action action, Pod pod) {
                    if (secondUid.equals(pod.getMetadata().getUid())) {
                      secondPhases.add(String.valueOf(phase(pod)));
                    }
                  }

                  @Override
                  public void onClose(WatcherException cause) {}
                })) {
      kubeletGoes.countDown();
      sandbox.kubelet().sync();
      await(
          "trainer",
          p -> secondUid.equals(p.getMetadata().getUid()) && "Running".equals(phase(p)),
          "the second pod Running");
      sandbox.kubelet().sync();
      Thread.sleep(300); // the watch delivers what the kubelet wrote
    }

    assertThat(secondPhases)
        .as("phases the second pod showed, while the kubelet ran it from its admission on")
        .doesNotContain("Succeeded", "Failed");
    assertThat(kubeletLog)
        .as("the first pod's end came while the second held its name")
        .anyMatch(
            l -> l.startsWith("pod/default/trainer " + first.getMetadata().getUid() + " is gone"));
    assertThat(sandbox.kubelet().gpusInUse("solo-2")).isEqualTo(1);
    assertThat(sandbox.kubelet().gpusInUse("solo-1")).as("the first pod's GPU is free").isZero();
  }

  private Pod create(String name, String node, int gpus, Map<String, String> env) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("default")
            .endMetadata()
            .withNewSpec()
            .withNodeName(node)
            .withRestartPolicy("Never")
            .addNewContainer()
            .withName("main")
            .withImage("trainer:1")
            .withNewResources()
            .addToLimits(
                gpus > 0 ? Map.of("nvidia.com/gpu", new Quantity(String.valueOf(gpus))) : Map.of())
            .endResources()
            .endContainer()
            .endSpec();
    env.forEach(
        (k, v) ->
            b.editSpec()
                .editFirstContainer()
                .addNewEnv()
                .withName(k)
                .withValue(v)
                .endEnv()
                .endContainer()
                .endSpec());
    return client.resource(b.build()).create();
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
