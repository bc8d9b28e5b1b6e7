package io.gpupool.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.GlobalEventExecutor;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LingeringThreadsTest {

  @Test
  void namesANonDaemonThreadThatDoesNotEndButNotOneThatEndsWithinTheGrace() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Thread stuck = new Thread(() -> awaitQuietly(release), "test-stuck");
    Thread brief = new Thread(() -> sleepQuietly(200), "test-brief");
    stuck.start();
    brief.start();
    try {
      assertThat(LingeringThreads.after(Duration.ofSeconds(2)))
          .anyMatch(s -> s.startsWith("test-stuck"))
          .noneMatch(s -> s.startsWith("test-brief"));
    } finally {
      release.countDown();
      stuck.join(5000);
    }
  }

  /**
   * The thread the soak named at exit: Netty's shared executor starts a non-daemon thread for a
   * task and that thread quits by itself about a second after its last one, so it is no leak.
   */
  @Test
  void nettysGlobalEventExecutorThreadEndsByItselfAfterItsLastTask() throws Exception {
    GlobalEventExecutor.INSTANCE.submit(() -> {}).await(5, TimeUnit.SECONDS);
    assertThat(threadNamed("globalEventExecutor")).as("started for the task").isTrue();

    assertThat(LingeringThreads.after(Duration.ofSeconds(5)))
        .noneMatch(s -> s.startsWith("globalEventExecutor"));
    assertThat(threadNamed("globalEventExecutor")).isFalse();
  }

  private static boolean threadNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .anyMatch(t -> t.isAlive() && t.getName().startsWith(prefix));
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleepQuietly(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
