package io.gpupool.operator.config;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * The operator's background loops (metering, stakes, challenges, pool gauges, dispute deadlines). A
 * task handed to {@link ScheduledExecutorService#scheduleWithFixedDelay} that throws once is never
 * run again, silently: catching {@link RuntimeException} is not enough, since an {@link Error} (a
 * class that failed to initialise, a stack overflow on a deep object, an assertion) ends the
 * schedule as well. Every run here is guarded against anything it throws.
 */
public final class Periodic {
  private static final Logger LOG = Logger.getLogger(Periodic.class);

  private Periodic() {}

  /** A single daemon thread named {@code name}. */
  public static ScheduledExecutorService daemon(String name) {
    return Executors.newSingleThreadScheduledExecutor(DaemonThreads.named(name));
  }

  /**
   * Runs {@code task} on {@code executor} after {@code initial}, then {@code delay} after each run
   * ends, whatever a run throws ({@code what} names it in the log).
   */
  public static ScheduledFuture<?> every(
      ScheduledExecutorService executor,
      Duration initial,
      Duration delay,
      String what,
      Runnable task) {
    return executor.scheduleWithFixedDelay(
        surviving(what, delay, task),
        initial.toMillis(),
        Math.max(1, delay.toMillis()),
        TimeUnit.MILLISECONDS);
  }

  /** {@code task}, logging instead of throwing, so the schedule that runs it keeps going. */
  static Runnable surviving(String what, Duration delay, Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (Throwable t) {
        // Even an OutOfMemoryError: the next run may well succeed, and a frozen loop (no
        // metering, no challenges) is worse than a retry.
        LOG.warnf(t, "%s failed; run again in %s", what, delay);
      }
    };
  }
}
