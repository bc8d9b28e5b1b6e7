package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiPredicate;

/**
 * {@link Workloads} in memory, for reconciler unit tests: it keeps the pods and Services it was
 * asked to create, and fails the n-th pod creation when told to ({@link #failPodNumber}), undoing
 * the group as the real port does.
 */
public final class FakeWorkloads implements Workloads {
  public final Map<String, Pod> pods = new LinkedHashMap<>();
  public final Map<String, Service> services = new LinkedHashMap<>();
  public final List<String> deleted = new ArrayList<>();
  private int podsCreated;
  private int failAt = -1;

  /** The {@code n}-th pod created from now on (1 = the next) fails with a 409-like error. */
  public FakeWorkloads failPodNumber(int n) {
    failAt = podsCreated + n;
    return this;
  }

  @Override
  public java.util.Optional<Pod> podOnServer(String namespace, String name) {
    return java.util.Optional.ofNullable(pods.get(name));
  }

  @Override
  public List<Pod> createGroup(
      String namespace,
      List<Service> wantedServices,
      List<Pod> wanted,
      BiPredicate<Pod, Pod> adopt) {
    wantedServices.forEach(s -> services.put(s.getMetadata().getName(), s));
    List<Pod> created = new ArrayList<>();
    for (Pod pod : wanted) {
      podsCreated++;
      Pod existing = pods.get(pod.getMetadata().getName());
      if (podsCreated == failAt || (existing != null && !adopt.test(pod, existing))) {
        created.forEach(p -> pods.remove(p.getMetadata().getName()));
        throw new GroupNotCreated(
            "rolled back after " + created.size() + " of " + wanted.size() + " pods: refused",
            null);
      }
      Pod stored =
          existing != null
              ? existing
              : new PodBuilder(pod)
                  .editMetadata()
                  .withNamespace(namespace)
                  .withUid(UUID.randomUUID().toString())
                  .endMetadata()
                  .build();
      pods.put(stored.getMetadata().getName(), stored);
      created.add(stored);
    }
    return created;
  }

  @Override
  public void deletePod(Pod pod) {
    if (pods.remove(pod.getMetadata().getName()) != null) {
      deleted.add(pod.getMetadata().getName());
    }
  }

  @Override
  public Pod drain(Pod pod, String label, String sinceAnnotation, Instant since) {
    Pod stored = pods.get(pod.getMetadata().getName());
    if (stored == null) {
      return null;
    }
    Map<String, String> annotations =
        stored.getMetadata().getAnnotations() == null
            ? new HashMap<>()
            : new HashMap<>(stored.getMetadata().getAnnotations());
    annotations.put(sinceAnnotation, since.toString());
    Pod drained =
        new PodBuilder(stored)
            .editMetadata()
            .addToLabels(label, "true")
            .withAnnotations(annotations)
            .endMetadata()
            .build();
    pods.put(drained.getMetadata().getName(), drained);
    return drained;
  }

  @Override
  public Pod annotate(Pod pod, String key, String value) {
    Pod stored = pods.get(pod.getMetadata().getName());
    if (stored == null) {
      return null;
    }
    Pod annotated =
        new PodBuilder(stored).editMetadata().addToAnnotations(key, value).endMetadata().build();
    pods.put(annotated.getMetadata().getName(), annotated);
    return annotated;
  }

  @Override
  public void deleteService(Service service) {
    services.remove(service.getMetadata().getName());
  }

  @Override
  public void deleteAll(String namespace, String kind, String jobName) {
    pods.clear();
    services.clear();
  }
}
