package io.gpupool.e2e.chaos;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The non-daemon threads still alive at the end of a run: each would keep the JVM from exiting on
 * its own. Some end by themselves a moment later: Netty's shared {@code globalEventExecutor} (used
 * by Vert.x, under the Fabric8 client and the mock API server, e.g. for {@code Future.timeout}
 * without a context, and by Netty's channel groups) quits one second after its last task, so a
 * thread is named only when it is still alive after a grace period.
 */
public final class LingeringThreads {

  private LingeringThreads() {}

  /**
   * Waits up to {@code grace} in all for the other live non-daemon threads to end; returns those
   * that did not, by name and where they are.
   */
  public static List<String> after(Duration grace) throws InterruptedException {
    long deadline = System.nanoTime() + grace.toNanos();
    List<String> alive = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isDaemon() || t == Thread.currentThread() || !t.isAlive()) {
        continue;
      }
      long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
      t.join(left);
      if (t.isAlive()) {
        StackTraceElement[] stack = t.getStackTrace();
        alive.add(t.getName() + (stack.length > 0 ? " at " + stack[0] : ""));
      }
    }
    return alive;
  }
}
