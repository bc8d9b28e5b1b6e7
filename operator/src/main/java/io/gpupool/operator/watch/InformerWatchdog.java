package io.gpupool.operator.watch;

import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.Periodic;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.RuntimeInfo;
import io.javaoperatorsdk.operator.health.InformerHealthIndicator;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.logging.Logger;

/**
 * Exits a replica one of whose informers (a controller's, or a {@link ClusterWatches} watch) has
 * not been watching for {@code gpupool.informer-patience} (default 2 minutes): the pod restarts
 * with new informers, and a follower takes the Lease over meanwhile. Off in the test profile: its
 * ITs share one JVM whose informers they stop and break on purpose, and an exit would end them all.
 *
 * <p>Why: Fabric8 7.4's Vert.x websocket can leave a watch's connect uncompleted for good (the API
 * server closed the watch at once, a 410 for an expired resourceVersion, and the close frame was
 * read before the connect callback ran: "Uncaught exception received by Vert.x:
 * IllegalStateException: WebSocket is closed" at VertxWebSocket.init). The informer then neither
 * watches nor relists and says nothing more; a ChaosE2E leader held the Lease for 7 minutes with
 * its TrainingJob informer in that state and never saw a newer job. Its own reconnects back off to
 * at most 32 s between tries, so a few minutes without a watch is no outage it will mend.
 */
@ApplicationScoped
public class InformerWatchdog {
  private static final Logger LOG = Logger.getLogger(InformerWatchdog.class);

  private static final Duration LOOK_EVERY = Duration.ofSeconds(10);

  private final Instance<Operator> operator;
  private final ClusterWatches watches;
  private final Clock clock;
  private final Runnable exit;
  private final Duration patience;
  private final StalledInformers stalled;
  private volatile ScheduledExecutorService timer;

  @Inject
  public InformerWatchdog(
      Instance<Operator> operator, ClusterWatches watches, GpupoolConfig config) {
    // as JOSDK exits a leader that lost its Lease, and ElectionWatchdog a stalled election
    this(operator, watches, config.informerPatience(), Clock.systemUTC(), () -> System.exit(1));
  }

  InformerWatchdog(
      Instance<Operator> operator,
      ClusterWatches watches,
      Duration patience,
      Clock clock,
      Runnable exit) {
    this.operator = operator;
    this.watches = watches;
    this.patience = patience;
    this.stalled = new StalledInformers(patience);
    this.clock = clock;
    this.exit = exit;
  }

  void start(@Observes StartupEvent ignored) {
    if (patience.isZero() || patience.isNegative()) {
      return;
    }
    timer = Periodic.daemon("gpupool-informer-watchdog");
    Periodic.every(timer, LOOK_EVERY, LOOK_EVERY, "checking the informers", this::look);
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  /**
   * One look at every controller informer and every watch of {@link ClusterWatches} (pods, nodes,
   * ...); exits the process when one has stalled.
   */
  void look() {
    RuntimeInfo info = operator.get().getRuntimeInfo();
    if (!info.isStarted()) {
      return;
    }
    Set<String> notWatching = notWatching(info);
    notWatching.addAll(watches.notWatching());
    Set<String> gone = stalled.look(clock.instant(), notWatching);
    if (!gone.isEmpty()) {
      LOG.errorf(
          "informer(s) %s have not been watching for %s: exiting so that this replica restarts"
              + " with new ones",
          gone, patience);
      exit.run();
    }
  }

  /** {@code controller/event source/namespace} of each informer not running or not watching. */
  static Set<String> notWatching(RuntimeInfo info) {
    Set<String> out = new TreeSet<>();
    for (var controller : info.unhealthyInformerWrappingEventSourceHealthIndicator().entrySet()) {
      for (var source : controller.getValue().entrySet()) {
        Map<String, InformerHealthIndicator> informers =
            source.getValue().informerHealthIndicators();
        informers.forEach(
            (namespace, informer) -> {
              if (!informer.isRunning() || !informer.isWatching()) {
                out.add(controller.getKey() + "/" + source.getKey() + "/" + namespace);
              }
            });
      }
    }
    return out;
  }
}
