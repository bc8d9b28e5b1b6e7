package io.gpupool.sandbox.kubelet;

import static org.junit.jupiter.api.Assertions.fail;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.Eventually;
import io.gpupool.sandbox.GpuPods;
import io.gpupool.sandbox.Sandbox;
import io.gpupool.sandbox.pool.PoolFile;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * A sandbox of one-GPU nodes ({@code solo-1}…) whose kubelet a test can hold still, as a kubelet
 * seconds behind its API server under load: the events that arrive meanwhile queue up, and what the
 * test hands to {@link #release} runs on the kubelet's thread before them.
 */
final class HeldKubeletSandbox implements AutoCloseable {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String GATE = "gate";

  final Sandbox sandbox;
  final KubernetesClient client;

  /** Every line the sandbox logged (the kubelet's admissions, refusals, pod ends). */
  final List<String> log = new CopyOnWriteArrayList<>();

  private final CountDownLatch held = new CountDownLatch(1);
  private final CountDownLatch goes = new CountDownLatch(1);
  private volatile Runnable first = () -> {};

  HeldKubeletSandbox(int nodes, double timeScale) {
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
                        count: %d
                        provider: p1
                        region: eu-west
                        zone: eu-west-1a
                        gpu: {product: NVIDIA-GeForce-RTX-4090, count: 1, memoryMiB: 24564,
                              family: ada-lovelace, computeMajor: 8, computeMinor: 9}
                    """
                        .formatted(nodes)))
            .timeScale(timeScale)
            .log(this::logged)
            .start();
    client = sandbox.client();
  }

  /** On the kubelet's thread: starting the pod "gate" holds it until {@link #release}. */
  private void logged(String line) {
    log.add(line);
    if (line.startsWith("pod/default/" + GATE + " Running")) {
      held.countDown();
      try {
        goes.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      first.run();
    }
  }

  /** Starts the pod "gate" on {@code node} and returns once the kubelet is held in its start. */
  void hold(String node) throws InterruptedException {
    create(GATE, node, 0, Map.of());
    if (!held.await(20, TimeUnit.SECONDS)) {
      fail("the kubelet never started the gate pod");
    }
  }

  /** Lets the kubelet go: it runs {@code onKubeletThread} before the events queued meanwhile. */
  void release(Runnable onKubeletThread) {
    first = onKubeletThread;
    goes.countDown();
  }

  Pod create(String name, String node, int gpus, Map<String, String> env) {
    return client.resource(GpuPods.pod(name, node, gpus, env, "Never")).create();
  }

  /** Deletes pod {@code name} and waits until the API server no longer has it. */
  void deleteAndWait(String name) {
    client.pods().inNamespace("default").withName(name).delete();
    eventually(
        () -> client.pods().inNamespace("default").withName(name).get(),
        p -> p == null,
        "pod " + name + " gone");
  }

  Pod await(String name, Predicate<Pod> condition, String what) {
    return eventually(
        () -> client.pods().inNamespace("default").withName(name).get(),
        p -> p != null && condition.test(p),
        "pod " + name + " " + what);
  }

  static String phase(Pod p) {
    return p.getStatus() == null ? null : p.getStatus().getPhase();
  }

  private static <T> T eventually(Supplier<T> get, Predicate<T> ok, String what) {
    return Eventually.eventually(WAIT, get, ok, what);
  }

  @Override
  public void close() {
    goes.countDown();
    sandbox.close();
  }
}
