package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.api.v1alpha1.GpupoolApi;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A job controller's event source for the pods its kind owns, fed by the operator's one pod watch
 * ({@link ClusterPods}) instead of a watch of its own: a pod event wakes the job named in its owner
 * reference, and {@link #getSecondaryResources} reads the shared cache.
 *
 * <p>Pods this operator has just created or changed are visible at once: they are kept here until
 * the watch delivers the same or a newer version, and that delivery of its own write wakes nobody,
 * as JOSDK's recent-operation cache does for an informer event source. That cache cannot be used
 * here: in JOSDK 5.2.1 it lives inside {@code InformerEventSource}, which always opens a pod watch
 * of its own (docs/architecture.md, "One job loop").
 *
 * @param <J> the owning job kind
 */
public final class OwnedPodEvents<J extends HasMetadata> extends AbstractEventSource<Pod, J> {
  private final ClusterPods pods;
  private final String kind;
  private final Map<ResourceID, Pod> recent = new ConcurrentHashMap<>();
  private final ResourceEventHandler<Pod> handler =
      new ResourceEventHandler<>() {
        @Override
        public void onAdd(Pod pod) {
          delivered(pod);
        }

        @Override
        public void onUpdate(Pod old, Pod pod) {
          delivered(pod);
        }

        @Override
        public void onDelete(Pod pod, boolean unknownFinalState) {
          recent.remove(ResourceID.fromResource(pod));
          wakeOwner(pod);
        }
      };

  public OwnedPodEvents(ClusterPods pods, Class<J> jobClass, String name) {
    super(Pod.class, name);
    this.pods = pods;
    this.kind = HasMetadata.getKind(jobClass);
  }

  @Override
  public synchronized void start() {
    pods.listen(handler);
    super.start();
  }

  @Override
  public synchronized void stop() {
    pods.stopListening(handler);
    super.stop();
  }

  /** The pods of {@code job} (by owner UID), with this operator's not yet delivered writes. */
  @Override
  public Set<Pod> getSecondaryResources(J job) {
    String uid = job.getMetadata().getUid();
    Map<ResourceID, Pod> out = new LinkedHashMap<>();
    if (uid != null) {
      for (Pod p : pods.ownedBy(uid)) {
        if (ownsKind(p)) {
          out.put(ResourceID.fromResource(p), p);
        }
      }
    }
    recent.forEach(
        (id, p) -> {
          if (uid == null || ownedBy(p, uid)) {
            Pod cached = out.get(id);
            if (cached == null || !atLeast(cached, p)) {
              out.put(id, p);
            }
          }
        });
    return Set.copyOf(out.values());
  }

  /** The pod as cached, or as this operator last wrote it if the watch has not delivered that. */
  public Optional<Pod> get(ResourceID id) {
    Pod written = recent.get(id);
    Optional<Pod> cached = pods.get(id.getNamespace().orElse(null), id.getName());
    if (written != null && (cached.isEmpty() || !atLeast(cached.get(), written))) {
      return Optional.of(written);
    }
    return cached;
  }

  /** A pod this operator created or changed: visible to reads before the watch delivers it. */
  public void written(Pod pod) {
    if (pod != null && pod.getMetadata() != null) {
      recent.put(ResourceID.fromResource(pod), pod);
    }
  }

  private void delivered(Pod pod) {
    ResourceID id = ResourceID.fromResource(pod);
    Pod written = recent.get(id);
    if (written != null && atLeast(pod, written)) {
      recent.remove(id, written);
      if (sameVersion(pod, written)) {
        // Our own write coming back: the reconcile that made it already knows, as JOSDK's
        // informer event source does not propagate the echo of a recent create or update.
        return;
      }
    }
    wakeOwner(pod);
  }

  private static boolean sameVersion(Pod a, Pod b) {
    String v = a.getMetadata().getResourceVersion();
    return v != null && v.equals(b.getMetadata().getResourceVersion());
  }

  private void wakeOwner(Pod pod) {
    if (!ownsKind(pod) || getEventHandler() == null || !isRunning()) {
      return;
    }
    for (OwnerReference ref : pod.getMetadata().getOwnerReferences()) {
      if (kind.equals(ref.getKind())) {
        getEventHandler()
            .handleEvent(
                new Event(new ResourceID(ref.getName(), pod.getMetadata().getNamespace())));
      }
    }
  }

  private boolean ownsKind(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    return labels != null && kind.equals(labels.get(GpupoolApi.JOB_KIND_LABEL));
  }

  private static boolean ownedBy(Pod pod, String uid) {
    return pod.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid()));
  }

  /**
   * True when {@code cached} is the same pod at the same or a later version than {@code written}.
   */
  private static boolean atLeast(Pod cached, Pod written) {
    String cachedUid = cached.getMetadata().getUid();
    String writtenUid = written.getMetadata().getUid();
    if (writtenUid != null && !writtenUid.equals(cachedUid)) {
      return false;
    }
    String a = cached.getMetadata().getResourceVersion();
    String b = written.getMetadata().getResourceVersion();
    if (a == null || b == null) {
      return a != null;
    }
    try {
      return Long.parseLong(a) >= Long.parseLong(b);
    } catch (NumberFormatException e) {
      return a.equals(b);
    }
  }
}
