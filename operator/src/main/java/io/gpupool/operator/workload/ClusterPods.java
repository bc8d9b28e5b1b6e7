package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.gpupool.operator.watch.ClusterWatches;
import io.gpupool.operator.watch.SharedWatch;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Optional;

/**
 * The operator's one watch on pods (all namespaces, {@link ClusterWatches#pods()}), as its pod
 * readers use it: both job controllers, the GPU allocation tracker and usage metering take their
 * events and their cache from here instead of opening a watch of their own. Started by whichever
 * reader needs it first.
 */
@ApplicationScoped
public class ClusterPods {
  private final SharedWatch<Pod> watch;

  public ClusterPods(ClusterWatches watches) {
    this.watch = watches.pods();
  }

  /**
   * Adds {@code handler} and starts the watch if it is not running yet. A handler added to a
   * running watch first receives an add for every pod already cached; each handler gets its events
   * in order on a thread of its own ({@link SharedWatch#listen}).
   */
  public void listen(ResourceEventHandler<Pod> handler) {
    watch.listen(handler);
  }

  public void stopListening(ResourceEventHandler<Pod> handler) {
    watch.stopListening(handler);
  }

  /** Starts the watch (once); readers that only read the cache call this. */
  public void start() {
    watch.start();
  }

  /** True once the first list of pods has arrived. */
  public boolean synced() {
    return watch.synced();
  }

  public List<Pod> list() {
    return watch.list();
  }

  /** Pods whose owner references name {@code ownerUid}. */
  public List<Pod> ownedBy(String ownerUid) {
    return watch.byIndex(ClusterWatches.OWNER_UID, ownerUid);
  }

  public Optional<Pod> get(String namespace, String name) {
    return watch.get(namespace, name);
  }
}
