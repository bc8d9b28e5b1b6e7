package io.gpupool.operator.queue;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResourceList;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.GpuQueue;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.scope.SelectedNamespaces;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the {@link AdmissionSnapshot} with one LIST per kind (per managed namespace when the
 * install is scoped to a list), the same reads the informers start with. Under a namespace selector
 * the jobs of namespaces this install does not manage are left out: another install's jobs never
 * count against this one's queues.
 */
@ApplicationScoped
public class ClusterSnapshot implements AdmissionSnapshot {
  private final KubernetesClient client;
  private final List<String> namespaces;
  private final SelectedNamespaces selected;

  public ClusterSnapshot(
      KubernetesClient client, GpupoolConfig config, SelectedNamespaces selected) {
    this.client = client;
    this.namespaces = config.scope().namespaces().orElse(List.of());
    this.selected = selected;
  }

  @Override
  public State read() {
    List<GpuQueue> queues = client.resources(GpuQueue.class).list().getItems();
    return new State(queues, jobs(TrainingJob.class), jobs(InferenceJob.class));
  }

  private <T extends HasMetadata> List<T> jobs(Class<T> kind) {
    var resources = client.resources(kind);
    if (namespaces.stream().allMatch(String::isBlank)) {
      return items(resources.inAnyNamespace().list()).stream()
          .filter(j -> selected.manages(j.getMetadata().getNamespace()))
          .toList();
    }
    List<T> all = new ArrayList<>();
    for (String ns : namespaces) {
      if (!ns.isBlank()) {
        all.addAll(items(resources.inNamespace(ns.trim()).list()));
      }
    }
    return all;
  }

  private static <T extends HasMetadata> List<T> items(KubernetesResourceList<T> list) {
    return list.getItems() == null ? List.of() : list.getItems();
  }
}
