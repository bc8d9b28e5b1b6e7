package io.gpupool.operator.it;

import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.List;

/** Moves pods through their lifecycle the way a kubelet would report it, on command. */
final class FakeKubelet {
  private final KubernetesClient client;

  FakeKubelet(KubernetesClient client) {
    this.client = client;
  }

  List<Pod> pods(String namespace, String job) {
    return client
        .pods()
        .inNamespace(namespace)
        .withLabel("gpupool.io/job-name", job)
        .list()
        .getItems();
  }

  /** The job's pods not being deleted. */
  List<Pod> live(String namespace, String job) {
    return pods(namespace, job).stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .toList();
  }

  /** Runs each of the job's live pods not running yet, as a kubelet starting them would. */
  void runNew(String namespace, String job) {
    for (Pod p : live(namespace, job)) {
      if (p.getStatus() == null || !"Running".equals(p.getStatus().getPhase())) {
        run(p);
      }
    }
  }

  void run(Pod pod) {
    status(pod, "Running", null, null);
  }

  void succeed(Pod pod) {
    status(pod, "Succeeded", 0, null);
  }

  void fail(Pod pod, int exitCode) {
    status(pod, "Failed", exitCode, "Error");
  }

  private void status(Pod pod, String phase, Integer exitCode, String reason) {
    client
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .editStatus(
            p -> {
              if (p.getStatus() == null) {
                p.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
              }
              p.getStatus().setPhase(phase);
              p.getStatus().setReason(reason);
              var cs =
                  new ContainerStatusBuilder()
                      .withName("worker")
                      .withReady("Running".equals(phase));
              if (exitCode != null) {
                cs.withNewState()
                    .withNewTerminated()
                    .withExitCode(exitCode)
                    .withFinishedAt(Instant.now().toString())
                    .endTerminated()
                    .endState();
              } else {
                cs.withNewState()
                    .withNewRunning()
                    .withStartedAt(Instant.now().toString())
                    .endRunning()
                    .endState();
              }
              p.getStatus().setContainerStatuses(List.of(cs.build()));
              return p;
            });
  }
}
