package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A job kind's pods as the operator's one pod watch holds them, with this operator's own writes
 * already in: pods it created or relabelled are visible at once ({@link OwnedPodEvents} keeps them
 * until the watch delivers them), pods it deleted are left out until the watch drops them. A
 * reconcile never sees the cluster as it was before its own last writes, without asking the API
 * server.
 *
 * @param <J> the owning job
 */
public final class OwnedPods<J extends HasMetadata> {
  private final OwnedPodEvents<J> source;
  private final Map<ResourceID, String> deleted = new ConcurrentHashMap<>();

  public OwnedPods(OwnedPodEvents<J> source) {
    this.source = source;
  }

  /** The pods of this incarnation of {@code job} (owner UID), without those we deleted. */
  public List<Pod> of(J job) {
    String uid = job.getMetadata().getUid();
    List<Pod> out = new ArrayList<>();
    for (Pod p : source.getSecondaryResources(job)) {
      ResourceID id = ResourceID.fromResource(p);
      String gone = deleted.get(id);
      if (gone != null) {
        if (gone.equals(p.getMetadata().getUid())) {
          continue;
        }
        deleted.remove(id, gone); // a new pod of the same name
      }
      if (uid == null
          || p.getMetadata().getOwnerReferences().stream().anyMatch(o -> uid.equals(o.getUid()))) {
        out.add(p);
      }
    }
    forgetDelivered();
    return out;
  }

  /** Drops the record of deletes the informer has seen. */
  private void forgetDelivered() {
    deleted.forEach(
        (id, uid) -> {
          if (source.get(id).filter(p -> uid.equals(p.getMetadata().getUid())).isEmpty()) {
            deleted.remove(id, uid);
          }
        });
  }

  void created(Pod pod) {
    source.written(pod);
  }

  void updated(Pod pod) {
    source.written(pod);
  }

  void deleted(Pod pod) {
    deleted.put(ResourceID.fromResource(pod), String.valueOf(pod.getMetadata().getUid()));
  }
}
