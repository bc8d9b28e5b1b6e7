package io.gpupool.sandbox.kubelet;

import static io.gpupool.sandbox.kubelet.HeldKubeletSandbox.phase;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A kubelet whose pod watch had to list again (410 Gone after a watch timed out under load): the
 * Fabric8 informer hands its handlers the list's adds and updates first and the deletions of pods
 * missing from it after, so a pod placed on a GPU freed by a deletion arrives while the deleted pod
 * is still counted. A real kubelet gets the removals first and admits the pod; so must the
 * simulator, or it refuses it (UnexpectedAdmissionError) for a GPU nothing holds.
 */
class RelistOrderIT {
  private final HeldKubeletSandbox cluster = new HeldKubeletSandbox(1, 1);

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void aPodOnAGpuFreedByADeletionIsAdmittedWhenTheDeletionArrivesAfterIt() throws Exception {
    cluster.create("old", "solo-1", 1, Map.of());
    cluster.await("old", p -> "Running".equals(phase(p)), "Running");
    cluster.hold("solo-1");
    cluster.deleteAndWait("old");
    Pod next = cluster.create("new", "solo-1", 1, Map.of());
    // The new pod reaches the kubelet before the old one's deletion, as after a relist.
    cluster.release(() -> cluster.sandbox.kubelet().podEventOnKubeletThread(next));
    cluster.sandbox.kubelet().sync();

    Pod placed =
        cluster.await("new", p -> phase(p) != null && !"Pending".equals(phase(p)), "decided");
    assertThat(phase(placed))
        .as("admitted on the GPU the deleted pod left, not refused: %s", placed.getStatus())
        .isEqualTo("Running");
    assertThat(cluster.sandbox.kubelet().gpusInUse("solo-1")).isEqualTo(1);
  }
}
