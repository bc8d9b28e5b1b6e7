package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.api.v1alpha1.GpupoolApi;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.function.BiPredicate;
import org.jboss.logging.Logger;

/** {@link Workloads} on the Fabric8 client. */
@ApplicationScoped
public class KubernetesWorkloads implements Workloads {
  private static final Logger LOG = Logger.getLogger(KubernetesWorkloads.class);

  private static final int ROLLBACK_ATTEMPTS = 3;

  private final KubernetesClient client;

  public KubernetesWorkloads(KubernetesClient client) {
    this.client = client;
  }

  @Override
  public List<Pod> createGroup(
      String namespace, List<Service> services, List<Pod> pods, BiPredicate<Pod, Pod> adopt) {
    List<Pod> created = new ArrayList<>();
    Pod attempted = null;
    try {
      for (Service service : services) {
        client.services().inNamespace(namespace).resource(service).createOr(s -> s.update());
      }
      for (Pod pod : pods) {
        attempted = pod;
        created.add(createOrAdopt(namespace, pod, adopt));
        attempted = null;
      }
      return created;
    } catch (KubernetesClientException e) {
      // A create that failed may still have been applied (its answer lost with the connection, a
      // timeout after the write): a pod left behind would run on GPUs the ledger gives back.
      for (Pod pod : created) {
        rollBackPod(namespace, pod);
      }
      if (attempted != null) {
        rollBackIfOurs(namespace, attempted);
      }
      throw new GroupNotCreated(
          "rolled back after " + created.size() + " of " + pods.size() + " pods: " + e.getMessage(),
          e);
    }
  }

  /**
   * Deletes the pod of a create that failed if the pod now under that name is the one we sent (same
   * owner): the create may have been applied although its answer was an error or lost (and the
   * client's retry then answered 409), while a name held by another's pod must stay.
   */
  private void rollBackIfOurs(String namespace, Pod attempted) {
    String name = attempted.getMetadata().getName();
    Pod stored;
    try {
      stored = client.pods().inNamespace(namespace).withName(name).get();
    } catch (KubernetesClientException e) {
      LOG.warnf("rolling back pod %s/%s: could not read it: %s", namespace, name, e.getMessage());
      return;
    }
    if (stored != null && sameOwner(stored, attempted)) {
      rollBackPod(namespace, stored);
    }
  }

  private static boolean sameOwner(Pod a, Pod b) {
    return !a.getMetadata().getOwnerReferences().isEmpty()
        && a.getMetadata().getOwnerReferences().stream()
            .map(o -> o.getUid())
            .toList()
            .equals(b.getMetadata().getOwnerReferences().stream().map(o -> o.getUid()).toList());
  }

  /** Deletes a pod of a group that was not created whole, retrying a few times. */
  private void rollBackPod(String namespace, Pod pod) {
    KubernetesClientException last = null;
    for (int attempt = 0; attempt < ROLLBACK_ATTEMPTS; attempt++) {
      try {
        client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).delete();
        return;
      } catch (KubernetesClientException deleteFailed) {
        last = deleteFailed;
      }
    }
    // Owner references still let the garbage collector remove it with the job.
    LOG.warnf(
        "rolling back pod %s/%s failed: %s",
        namespace, pod.getMetadata().getName(), last.getMessage());
  }

  private Pod createOrAdopt(String namespace, Pod pod, BiPredicate<Pod, Pod> adopt) {
    try {
      return client.pods().inNamespace(namespace).resource(pod).create();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 409) {
        throw e;
      }
      Pod existing =
          client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).get();
      if (existing != null
          && existing.getMetadata().getDeletionTimestamp() == null
          && adopt.test(pod, existing)) {
        return existing;
      }
      throw e;
    }
  }

  @Override
  public Optional<Pod> podOnServer(String namespace, String name) {
    return Optional.ofNullable(client.pods().inNamespace(namespace).withName(name).get());
  }

  @Override
  public void deletePod(Pod pod) {
    client
        .pods()
        .inNamespace(pod.getMetadata().getNamespace())
        .withName(pod.getMetadata().getName())
        .delete();
  }

  @Override
  public Pod drain(Pod pod, String label, String sinceAnnotation, Instant since) {
    try {
      return client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .edit(
              p -> {
                p.getMetadata().getLabels().put(label, "true");
                if (p.getMetadata().getAnnotations() == null) {
                  p.getMetadata().setAnnotations(new HashMap<>());
                }
                p.getMetadata().getAnnotations().put(sinceAnnotation, since.toString());
                return p;
              });
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  @Override
  public Pod annotate(Pod pod, String key, String value) {
    try {
      return client
          .pods()
          .inNamespace(pod.getMetadata().getNamespace())
          .withName(pod.getMetadata().getName())
          .edit(
              p -> {
                if (p.getMetadata().getAnnotations() == null) {
                  p.getMetadata().setAnnotations(new HashMap<>());
                }
                p.getMetadata().getAnnotations().put(key, value);
                return p;
              });
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return null;
      }
      throw e;
    }
  }

  @Override
  public void deleteService(Service service) {
    client
        .services()
        .inNamespace(service.getMetadata().getNamespace())
        .withName(service.getMetadata().getName())
        .delete();
  }

  @Override
  public void deleteAll(String namespace, String kind, String jobName) {
    client
        .pods()
        .inNamespace(namespace)
        .withLabel(GpupoolApi.JOB_NAME_LABEL, jobName)
        .withLabel(GpupoolApi.JOB_KIND_LABEL, kind)
        .delete();
    client
        .services()
        .inNamespace(namespace)
        .withLabel(GpupoolApi.JOB_NAME_LABEL, jobName)
        .withLabel(GpupoolApi.JOB_KIND_LABEL, kind)
        .delete();
  }
}
