package io.gpupool.operator.billing;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.gpupool.api.v1alpha1.GpupoolApi;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The gpupool job a pod bills to. {@code uid} is the billing job id: it stays unique when a job is
 * deleted and re-created under the same name.
 */
public record JobRef(String kind, String namespace, String name, String uid) {

  public JobRef {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(uid, "uid");
  }

  /**
   * The job of a gpupool pod: its {@code gpupool.io/job-name}/{@code job-kind} labels and the UID
   * of the controlling owner reference of that kind and name. Empty for pods that are not a job's.
   */
  public static Optional<JobRef> of(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    if (labels == null || !labels.containsKey(GpupoolApi.JOB_NAME_LABEL)) {
      return Optional.empty();
    }
    String name = labels.get(GpupoolApi.JOB_NAME_LABEL);
    String kind = labels.getOrDefault(GpupoolApi.JOB_KIND_LABEL, "TrainingJob");
    if (pod.getMetadata().getOwnerReferences() == null) {
      return Optional.empty();
    }
    for (OwnerReference o : pod.getMetadata().getOwnerReferences()) {
      if (kind.equals(o.getKind()) && name.equals(o.getName()) && o.getUid() != null) {
        return Optional.of(new JobRef(kind, pod.getMetadata().getNamespace(), name, o.getUid()));
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return kind + "(" + namespace + "/" + name + ")";
  }
}
