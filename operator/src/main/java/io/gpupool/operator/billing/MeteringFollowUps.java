package io.gpupool.operator.billing;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The hooks that follow a metering: billing metrics, account status, waking the jobs that watch
 * their cost. Each reads every job's usage, so run after the metering of every pod end they cost
 * work linear in the jobs per pod end, quadratic over a run: with 2,000 jobs ending on 1,000 nodes
 * they were half of the operator's CPU (docs/benchmarks.md). A pod end asks for a run instead: asks
 * while one is due make that one run, and runs start at least {@code gap} apart. A run always
 * starts after the ask, so it sees what the asking metering wrote.
 */
final class MeteringFollowUps {
  private static final Logger LOG = Logger.getLogger(MeteringFollowUps.class);

  /** Runs a task on the meter's thread after a delay in nanoseconds. */
  @FunctionalInterface
  interface Scheduler {
    void schedule(Runnable task, long delayNanos);
  }

  private final List<Runnable> hooks = new CopyOnWriteArrayList<>();
  private final long gapNanos;
  private final LongSupplier nanoTime;
  private final AtomicBoolean due = new AtomicBoolean();
  private volatile boolean ranOnce;
  private volatile long lastStartNanos;

  MeteringFollowUps(Duration gap, LongSupplier nanoTime) {
    this.gapNanos = gap.toNanos();
    this.nanoTime = nanoTime;
  }

  void add(Runnable hook) {
    hooks.add(hook);
  }

  /** Runs every hook now, on the caller's thread (a full metering pass). */
  void runNow() {
    lastStartNanos = nanoTime.getAsLong();
    ranOnce = true;
    hooks.forEach(Runnable::run);
  }

  /** Asks for a run through {@code scheduler}: none is added while one is due already. */
  void request(Scheduler scheduler) {
    if (!due.compareAndSet(false, true)) {
      return;
    }
    long wait = ranOnce ? Math.max(0, lastStartNanos + gapNanos - nanoTime.getAsLong()) : 0;
    try {
      scheduler.schedule(this::runDue, wait);
    } catch (RejectedExecutionException closed) {
      due.set(false); // the meter was closed: nothing follows any more
    }
  }

  private void runDue() {
    // Cleared before the hooks read: a metering that ends while they run asks for another run.
    due.set(false);
    try {
      runNow();
    } catch (RuntimeException e) {
      LOG.warnf(e, "a hook after metering failed; it runs again after the next metering");
    }
  }
}
