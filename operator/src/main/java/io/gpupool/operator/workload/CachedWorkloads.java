package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.BiPredicate;

/**
 * {@link Workloads} that tells a kind's {@link OwnedPods} about each write it passes on, so the
 * next reconcile reads its own writes from the shared pod cache.
 */
public final class CachedWorkloads<J extends HasMetadata> implements Workloads {
  private final Workloads delegate;
  private final OwnedPods<J> pods;

  public CachedWorkloads(Workloads delegate, OwnedPods<J> pods) {
    this.delegate = delegate;
    this.pods = pods;
  }

  @Override
  public List<Pod> createGroup(
      String namespace, List<Service> services, List<Pod> wanted, BiPredicate<Pod, Pod> adopt) {
    List<Pod> created = delegate.createGroup(namespace, services, wanted, adopt);
    created.forEach(pods::created);
    return created;
  }

  @Override
  public Optional<Pod> podOnServer(String namespace, String name) {
    return delegate.podOnServer(namespace, name);
  }

  @Override
  public void deletePod(Pod pod) {
    delegate.deletePod(pod);
    pods.deleted(pod);
  }

  @Override
  public Pod drain(Pod pod, String label, String sinceAnnotation, Instant since) {
    Pod drained = delegate.drain(pod, label, sinceAnnotation, since);
    if (drained != null) {
      pods.updated(drained);
    }
    return drained;
  }

  @Override
  public Pod annotate(Pod pod, String key, String value) {
    Pod annotated = delegate.annotate(pod, key, value);
    if (annotated != null) {
      pods.updated(annotated);
    }
    return annotated;
  }

  @Override
  public void deleteService(Service service) {
    delegate.deleteService(service);
  }

  @Override
  public void deleteAll(String namespace, String kind, String jobName) {
    delegate.deleteAll(namespace, kind, jobName);
  }
}
