package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.operator.workload.GroupBinder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The time between a leader's SIGKILL and the next leader's first look at a job, played by holding
 * the job's steps: while a group of a job is being created its steps wait ({@code
 * GroupBinder.busy}), so a binding that does not end until {@link #end} keeps every reconcile of
 * the job away, as no leader would look at it.
 */
final class LeaderGap {
  private final GroupBinder binder;
  private final String jobUid;
  private final Duration timeout;
  private final CountDownLatch release = new CountDownLatch(1);

  private LeaderGap(GroupBinder binder, String jobUid, Duration timeout) {
    this.binder = binder;
    this.jobUid = jobUid;
    this.timeout = timeout;
  }

  /** Holds every step of the job (in {@code namespace}) from now until {@link #end}. */
  static LeaderGap open(GroupBinder binder, String namespace, String jobUid, Duration timeout) {
    LeaderGap gap = new LeaderGap(binder, jobUid, timeout);
    binder.bind(
        new GroupBinder.Group(
            jobUid,
            "the leader gap",
            namespace,
            List.of(),
            List.of(),
            pods -> {
              try {
                gap.release.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              return pods;
            },
            (found, wanted) -> false),
        pod -> {},
        why -> {},
        () -> {});
    await().atMost(timeout).until(() -> binder.busy(jobUid));
    return gap;
  }

  /** The next leader starts: the job's steps run again. */
  void end() {
    release.countDown();
  }

  /**
   * The next leader's first look at the job, once the gap is closed: woken by an event of {@code
   * pod} (the held binding wakes nobody), unless a capacity wake-up came first and its step already
   * deleted the pod.
   */
  void nextLeaderLooks(KubernetesClient client, Pod pod) {
    await().atMost(timeout).until(() -> binder.busy(jobUid), busy -> !busy);
    try {
      client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .edit(
              p -> {
                p.getMetadata().getLabels().put("example.com/touched", "true");
                return p;
              });
    } catch (KubernetesClientException e) {
      assertThat(e.getCode()).as("already deleted by a step woken otherwise").isEqualTo(404);
    }
  }
}
