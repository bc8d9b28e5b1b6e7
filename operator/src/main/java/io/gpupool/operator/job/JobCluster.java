package io.gpupool.operator.job;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.operator.metrics.JobMetrics;
import io.gpupool.operator.status.EventRecorder;
import io.gpupool.operator.workload.ClusterPods;
import io.gpupool.operator.workload.Workloads;
import jakarta.inject.Singleton;

/**
 * The cluster as a job controller reads and writes it, the same for both kinds: the pods of the
 * shared read model, pod and Service writes, the API client that status is written with, events and
 * the job metrics.
 */
@Singleton
public class JobCluster {
  private final KubernetesClient client;
  private final ClusterPods pods;
  private final Workloads workloads;
  private final EventRecorder events;
  private final JobMetrics metrics;

  public JobCluster(
      KubernetesClient client,
      ClusterPods pods,
      Workloads workloads,
      EventRecorder events,
      JobMetrics metrics) {
    this.client = client;
    this.pods = pods;
    this.workloads = workloads;
    this.events = events;
    this.metrics = metrics;
  }

  /** The API client: status writes ({@code status/CachedStatus}) and what JOSDK does not cache. */
  public KubernetesClient client() {
    return client;
  }

  /** The operator's one pod watch, which each controller's pod event source reads. */
  public ClusterPods pods() {
    return pods;
  }

  /** Pod and Service writes (create a gang or group all-or-nothing, delete, drain). */
  public Workloads workloads() {
    return workloads;
  }

  public EventRecorder events() {
    return events;
  }

  public JobMetrics metrics() {
    return metrics;
  }
}
