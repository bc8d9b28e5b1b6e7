package io.gpupool.operator.workload;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * The operator's one watch on pods (all namespaces): every reader — both job controllers, the GPU
 * allocation tracker, usage metering — takes its events and its cache from here instead of opening
 * a watch of its own. Started by whichever reader needs it first.
 */
@ApplicationScoped
public class ClusterPods {
  private static final String OWNER_INDEX = "owner-uid";

  private static final Logger LOG = Logger.getLogger(ClusterPods.class);

  private final SharedIndexInformer<Pod> informer;
  private final Map<ResourceEventHandler<Pod>, OwnThread> listeners = new HashMap<>();
  private boolean started;

  public ClusterPods(KubernetesClient client) {
    this.informer = client.pods().inAnyNamespace().runnableInformer(0);
    informer.exceptionHandler(ClusterPods::retryAfter);
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
   * running watch first receives an add for every pod already cached. Each handler gets the events
   * in order on a thread of its own: the informer hands every listener's events out one after the
   * other, and a slow reader (metering writes usage records for a pod that ended) would otherwise
   * hold back the controllers' events.
   */
  public synchronized void listen(ResourceEventHandler<Pod> handler) {
    OwnThread own = new OwnThread(handler);
    listeners.put(handler, own);
    informer.addEventHandler(own);
    start();
  }

  public synchronized void stopListening(ResourceEventHandler<Pod> handler) {
    OwnThread own = listeners.remove(handler);
    if (own != null) {
      informer.removeEventHandler(own);
      own.executor.shutdown();
    }
  }

  /** A handler's events, in order, on its own thread. */
  private static final class OwnThread implements ResourceEventHandler<Pod> {
    private static final AtomicInteger THREADS = new AtomicInteger();
    private final ResourceEventHandler<Pod> handler;
    private final ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "gpupool-pods-" + THREADS.incrementAndGet());
              t.setDaemon(true);
              return t;
            });

    OwnThread(ResourceEventHandler<Pod> handler) {
      this.handler = handler;
    }

    @Override
    public void onAdd(Pod pod) {
      run(() -> handler.onAdd(pod));
    }

    @Override
    public void onUpdate(Pod old, Pod pod) {
      run(() -> handler.onUpdate(old, pod));
    }

    @Override
    public void onDelete(Pod pod, boolean unknownFinalState) {
      run(() -> handler.onDelete(pod, unknownFinalState));
    }

    private void run(Runnable event) {
      try {
        executor.execute(
            () -> {
              try {
                event.run();
              } catch (RuntimeException e) {
                LOG.warnf(e, "a pod event handler failed");
              }
            });
      } catch (RejectedExecutionException e) {
        // stopped listening
      }
    }
  }

  /**
   * Whether the watch tries again after {@code failure}: always, also when its very first list
   * failed. Fabric8's default gives up on a failure before the first sync and stops the informer
   * for good: under API-server faults (a dropped connection at start-up, found by the chaos soak) a
   * replica then never saw a pod, never placed a job and never metered one while it led. Only a pod
   * that cannot be read at all (a deserialization failure) stops it.
   */
  static boolean retryAfter(boolean started, Throwable failure) {
    if (ExceptionHandler.isDeserializationException(failure)) {
      LOG.errorf(failure, "pods cannot be read: the pod watch stops");
      return false;
    }
    if (!started) {
      LOG.warnf("the first list of pods failed, trying again: %s", failure.toString());
    }
    return true;
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
    listeners.values().forEach(l -> l.executor.shutdownNow());
  }
}
