package io.gpupool.operator.queue;

import io.gpupool.operator.config.DaemonThreads;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/** Runs a task later: admission's timer (tests drive it by hand, in simulated time). */
@FunctionalInterface
interface Later {
  void run(Runnable task, Duration after);

  /** One daemon thread for all of admission's delayed tasks. */
  Later TIMER =
      (task, after) -> Timer.EXECUTOR.schedule(task, after.toMillis(), TimeUnit.MILLISECONDS);

  /** Holds the executor, created on first use. */
  final class Timer {
    private Timer() {}

    static final ScheduledExecutorService EXECUTOR =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("admission-positions"));
  }
}
