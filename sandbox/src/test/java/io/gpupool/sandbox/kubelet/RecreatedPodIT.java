package io.gpupool.sandbox.kubelet;

import static io.gpupool.sandbox.kubelet.HeldKubeletSandbox.phase;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A pod deleted and created again under the same name (a TrainingJob placed again after an eviction
 * keeps its pod names) while the kubelet is behind: what the kubelet still does for the deleted pod
 * must not land on its successor. A real kubelet writes status only to the pod UID it runs; the
 * simulator once wrote by name, so the end of the deleted pod turned the new one Succeeded while it
 * ran, and the operator handed out its GPU (UnexpectedAdmissionError).
 */
class RecreatedPodIT {
  /** 50 sandbox seconds per wall second: the first pod's 50 s end 1 s after it started. */
  private final HeldKubeletSandbox cluster = new HeldKubeletSandbox(2, 50);

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void theEndOfADeletedPodIsNotWrittenOntoItsSameNamedSuccessor() throws Exception {
    cluster.create("trainer", "solo-1", 1, Map.of(KubeletSimulator.RUN_SECONDS_ENV, "50"));
    Pod first = cluster.await("trainer", p -> "Running".equals(phase(p)), "Running");
    long endsAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000);

    cluster.hold("solo-1");
    // The first pod's end falls due while the kubelet is held: it runs before the events below.
    TimeUnit.NANOSECONDS.sleep(Math.max(0, endsAt - System.nanoTime()) + 300_000_000L);
    cluster.deleteAndWait("trainer");
    Pod second = cluster.create("trainer", "solo-2", 1, Map.of());
    String secondUid = second.getMetadata().getUid();
    assertThat(secondUid).isNotEqualTo(first.getMetadata().getUid());

    List<String> secondPhases = new CopyOnWriteArrayList<>();
    try (Watch ignored =
        cluster
            .client
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
      cluster.release(() -> {});
      cluster.sandbox.kubelet().sync();
      cluster.await(
          "trainer",
          p -> secondUid.equals(p.getMetadata().getUid()) && "Running".equals(phase(p)),
          "the second pod Running");
      cluster.sandbox.kubelet().sync();
      Thread.sleep(300); // the watch delivers what the kubelet wrote
    }

    assertThat(secondPhases)
        .as("phases the second pod showed, while the kubelet ran it from its admission on")
        .doesNotContain("Succeeded", "Failed");
    assertThat(cluster.log)
        .as("the first pod's end came while the second held its name")
        .anyMatch(
            l -> l.startsWith("pod/default/trainer " + first.getMetadata().getUid() + " is gone"));
    assertThat(cluster.sandbox.kubelet().gpusInUse("solo-2")).isEqualTo(1);
    assertThat(cluster.sandbox.kubelet().gpusInUse("solo-1"))
        .as("the first pod's GPU is free")
        .isZero();
  }
}
