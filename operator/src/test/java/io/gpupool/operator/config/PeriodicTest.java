package io.gpupool.operator.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PeriodicTest {

  /** What the loops did before: catch RuntimeException and hope. */
  @Test
  void aPlainScheduleStopsForGoodAfterAnError() throws Exception {
    ScheduledExecutorService executor = Periodic.daemon("test-plain");
    AtomicInteger runs = new AtomicInteger();
    try {
      executor.scheduleWithFixedDelay(
          () -> {
            try {
              if (runs.incrementAndGet() == 1) {
                throw new ExceptionInInitializerError("static init of a chain class failed");
              }
            } catch (RuntimeException e) {
              // the old guard: does not see an Error
            }
          },
          0,
          10,
          TimeUnit.MILLISECONDS);
      Thread.sleep(300);
      assertThat(runs.get()).isEqualTo(1);
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void aTaskKeepsRunningAfterErrorsAndExceptions() throws Exception {
    ScheduledExecutorService executor = Periodic.daemon("test-periodic");
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch fourth = new CountDownLatch(1);
    try {
      Periodic.every(
          executor,
          Duration.ZERO,
          Duration.ofMillis(10),
          "test loop",
          () -> {
            switch (runs.incrementAndGet()) {
              case 1 -> throw new ExceptionInInitializerError("first run");
              case 2 -> throw new StackOverflowError();
              case 3 -> throw new IllegalStateException("third run");
              default -> fourth.countDown();
            }
          });
      assertThat(fourth.await(5, TimeUnit.SECONDS)).as("runs after three failures").isTrue();
    } finally {
      executor.shutdownNow();
    }
  }
}
