package io.gpupool.e2e.chaos;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import java.util.List;

/**
 * What the invariants look at, read in one go by the administrator: the pool's nodes, every
 * TrainingJob and InferenceJob, the pods and Services the operator made for them, and the usage
 * records (ConfigMaps labelled {@code gpupool.io/billing=usage}) in the operator's namespace.
 */
public record ClusterView(
    List<Node> nodes,
    List<TrainingJob> jobs,
    List<Pod> pods,
    List<Service> services,
    List<ConfigMap> usageRecords,
    List<InferenceJob> inferenceJobs) {

  public ClusterView {
    nodes = List.copyOf(nodes);
    jobs = List.copyOf(jobs);
    pods = List.copyOf(pods);
    services = List.copyOf(services);
    usageRecords = List.copyOf(usageRecords);
    inferenceJobs = List.copyOf(inferenceJobs);
  }

  /** A view without InferenceJobs. */
  public ClusterView(
      List<Node> nodes,
      List<TrainingJob> jobs,
      List<Pod> pods,
      List<Service> services,
      List<ConfigMap> usageRecords) {
    this(nodes, jobs, pods, services, usageRecords, List.of());
  }

  /** Reads the cluster through {@code admin}; usage records from {@code operatorNamespace}. */
  public static ClusterView read(KubernetesClient admin, String operatorNamespace) {
    return new ClusterView(
        admin.nodes().list().getItems(),
        admin.resources(TrainingJob.class).inAnyNamespace().list().getItems(),
        admin.pods().inAnyNamespace().withLabel(GpupoolApi.JOB_NAME_LABEL).list().getItems(),
        admin.services().inAnyNamespace().withLabel(GpupoolApi.JOB_NAME_LABEL).list().getItems(),
        admin
            .configMaps()
            .inNamespace(operatorNamespace)
            .withLabel("gpupool.io/billing", "usage")
            .list()
            .getItems(),
        admin.resources(InferenceJob.class).inAnyNamespace().list().getItems());
  }
}
