package io.gpupool.operator.job;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Capacity changes gathered for a moment and handed on together: one call per cause, with every
 * node the gathered changes named. Each call makes a job controller test every job it caches, and
 * releases come once per pod end: handed on one by one, a run of 10,000 jobs made the controllers
 * test jobs 10,000 × 10,000 times (the largest operator path in {@code ./gpupool bench-queues},
 * docs/benchmarks.md). A change waits at most one gathering period, and a waiting job is woken once
 * per period however many GPUs were freed in it.
 */
final class GatheredChanges {
  private static final Logger LOG = Logger.getLogger(GatheredChanges.class);

  private final CapacityEvents.Listener listener;
  private final Consumer<Runnable> later;
  private Map<String, Set<String>> pending = new LinkedHashMap<>();
  private boolean scheduled;

  /**
   * @param later runs its argument once, after the gathering period, on another thread
   */
  GatheredChanges(CapacityEvents.Listener listener, Consumer<Runnable> later) {
    this.listener = listener;
    this.later = later;
  }

  /** A change for {@code cause}, of {@code node} when one node changed (null otherwise). */
  void add(String cause, String node) {
    boolean schedule;
    synchronized (this) {
      Set<String> nodes = pending.computeIfAbsent(cause, c -> new HashSet<>());
      if (node != null) {
        nodes.add(node);
      }
      schedule = !scheduled;
      scheduled = true;
    }
    if (schedule) {
      later.accept(this::handOn);
    }
  }

  /**
   * Hands every gathered change on, a call per cause; changes added meanwhile wait for the next.
   */
  void handOn() {
    Map<String, Set<String>> changes;
    synchronized (this) {
      changes = pending;
      pending = new LinkedHashMap<>();
      scheduled = false;
    }
    changes.forEach(
        (cause, nodes) -> {
          try {
            listener.changed(cause, Set.copyOf(nodes));
          } catch (RuntimeException e) {
            LOG.warnf(e, "waking jobs on %s failed", cause);
          }
        });
  }
}
