package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The operator's one watch on pods (all namespaces): every reader — both job controllers, the GPU
 * allocation tracker, usage metering — takes its events and its cache from here instead of opening
 * a watch of its own. Started by whichever reader needs it first.
 */
@ApplicationScoped
public class ClusterPods {
  private static final String OWNER_INDEX = "owner-uid";

  private final SharedIndexInformer<Pod> informer;
  private boolean started;

  public ClusterPods(KubernetesClient client) {
    this.informer = client.pods().inAnyNamespace().runnableInformer(0);
    informer.addIndexers(
        Map.of(
            OWNER_INDEX,
            pod ->
                pod.getMetadata().getOwnerReferences().stream()
                    .map(OwnerReference::getUid)
                    .toList()));
  }

  /**
   * Adds {@code handler} and starts the watch if it is not running yet. A handler added to a
   * running watch first receives an add for every pod already cached.
   */
  public synchronized void listen(ResourceEventHandler<Pod> handler) {
    informer.addEventHandler(handler);
    start();
  }

  public synchronized void stopListening(ResourceEventHandler<Pod> handler) {
    informer.removeEventHandler(handler);
  }

  /** Starts the watch (once); readers that only read the cache call this. */
  public synchronized void start() {
    if (!started) {
      started = true;
      informer.start();
    }
  }

  /** True once the first list of pods has arrived. */
  public boolean synced() {
    return informer.hasSynced();
  }

  public List<Pod> list() {
    return informer.getStore().list();
  }

  /** Pods whose owner references name {@code ownerUid}. */
  public List<Pod> ownedBy(String ownerUid) {
    return informer.getIndexer().byIndex(OWNER_INDEX, ownerUid);
  }

  public Optional<Pod> get(String namespace, String name) {
    return Optional.ofNullable(
        informer.getStore().getByKey(Cache.namespaceKeyFunc(namespace, name)));
  }

  void stop(@Observes ShutdownEvent ignored) {
    informer.stop();
  }
}
