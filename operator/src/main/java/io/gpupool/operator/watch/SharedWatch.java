package io.gpupool.operator.watch;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.gpupool.operator.config.DaemonThreads;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * One watch of one kind, read by every part of the operator that needs that kind: each reader adds
 * a listener and reads the same cache instead of opening a watch of its own ({@link ClusterWatches}
 * hands out one per kind). Started by whichever reader needs it first; a listener added later first
 * hears an add for every object already cached.
 */
public final class SharedWatch<T extends HasMetadata> {
  private static final Logger LOG = Logger.getLogger(SharedWatch.class);

  private final String kind;
  private final SharedIndexInformer<T> informer;
  private final Map<ResourceEventHandler<T>, OwnThread<T>> listeners = new HashMap<>();
  private CompletionStage<Void> firstList;

  /** A watch over {@code informer} (not started yet); {@code kind} names it in logs and threads. */
  public SharedWatch(String kind, SharedIndexInformer<T> informer) {
    this.kind = kind;
    this.informer = informer;
    informer.exceptionHandler((isStarted, failure) -> retryAfter(kind, isStarted, failure));
  }

  /**
   * Adds {@code handler} and starts the watch if it is not running yet. Each handler gets the
   * events in order on a thread of its own: the informer hands every listener's events out one
   * after the other, and a slow reader (metering writes usage records for a pod that ended) would
   * otherwise hold back the others' events.
   */
  public synchronized void listen(ResourceEventHandler<T> handler) {
    OwnThread<T> own = new OwnThread<>(kind, handler);
    listeners.put(handler, own);
    informer.addEventHandler(own);
    start();
  }

  public synchronized void stopListening(ResourceEventHandler<T> handler) {
    OwnThread<T> own = listeners.remove(handler);
    if (own != null) {
      informer.removeEventHandler(own);
      own.executor.shutdown();
    }
  }

  /** Starts the watch (once); readers that only read the cache call this. */
  public void start() {
    firstList();
  }

  private synchronized CompletionStage<Void> firstList() {
    if (firstList == null) {
      firstList = informer.start();
    }
    return firstList;
  }

  /**
   * Starts the watch and waits until its first list arrived, for readers that must not act on an
   * empty cache. Throws when the list has not arrived within {@code patience} (the API server is
   * unreachable): start-up fails and the operator is restarted.
   */
  public void startAndWait(Duration patience) {
    try {
      firstList().toCompletableFuture().get(patience.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(kind + ": interrupted waiting for the first list", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(kind + ": no first list within " + patience, e);
    }
  }

  /** True once started while not watching: between watches, or stopped (InformerWatchdog). */
  synchronized boolean startedButNotWatching() {
    return firstList != null && !(informer.isRunning() && informer.isWatching());
  }

  /** The kind it watches, as named in logs. */
  String kind() {
    return kind;
  }

  /** True once the first list has arrived. */
  public boolean synced() {
    return informer.hasSynced();
  }

  public List<T> list() {
    return informer.getStore().list();
  }

  /** The cached object {@code namespace/name} (namespace null for a cluster-scoped kind). */
  public Optional<T> get(String namespace, String name) {
    String key = namespace == null ? name : Cache.namespaceKeyFunc(namespace, name);
    return Optional.ofNullable(informer.getStore().getByKey(key));
  }

  /** The cached objects an index (added where the watch was made) files under {@code value}. */
  public List<T> byIndex(String index, String value) {
    return informer.getIndexer().byIndex(index, value);
  }

  /** Stops the watch and every listener's thread (at shutdown). */
  public synchronized void stop() {
    informer.stop();
    listeners.values().forEach(l -> l.executor.shutdownNow());
  }

  /**
   * Whether the watch tries again after {@code failure}: always, also when its very first list
   * failed. Fabric8's default gives up on a failure before the first sync and stops the informer
   * for good: under API-server faults (a dropped connection at start-up, found by the chaos soak) a
   * replica then never saw a pod, never placed a job and never metered one while it led. Only an
   * object that cannot be read at all (a deserialization failure) stops it.
   */
  static boolean retryAfter(String kind, boolean started, Throwable failure) {
    if (ExceptionHandler.isDeserializationException(failure)) {
      LOG.errorf(failure, "%s cannot be read: the watch stops", kind);
      return false;
    }
    if (!started) {
      LOG.warnf("the first list of %s failed, trying again: %s", kind, failure.toString());
    }
    return true;
  }

  /** A handler's events, in order, on its own thread. */
  private static final class OwnThread<T> implements ResourceEventHandler<T> {
    private final String kind;
    private final ResourceEventHandler<T> handler;
    private final ExecutorService executor;

    OwnThread(String kind, ResourceEventHandler<T> handler) {
      this.kind = kind;
      this.handler = handler;
      this.executor = Executors.newSingleThreadExecutor(DaemonThreads.numbered("gpupool-" + kind));
    }

    @Override
    public void onAdd(T object) {
      run(() -> handler.onAdd(object));
    }

    @Override
    public void onUpdate(T old, T object) {
      run(() -> handler.onUpdate(old, object));
    }

    @Override
    public void onDelete(T object, boolean unknownFinalState) {
      run(() -> handler.onDelete(object, unknownFinalState));
    }

    private void run(Runnable event) {
      try {
        executor.execute(
            () -> {
              try {
                event.run();
              } catch (RuntimeException e) {
                LOG.warnf(e, "a %s event handler failed", kind);
              }
            });
      } catch (RejectedExecutionException e) {
        // stopped listening
      }
    }
  }
}
