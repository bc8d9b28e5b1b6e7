package io.gpupool.operator.config;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories for the operator's own executors: daemon threads, so that none of them keeps a
 * replica alive once Quarkus has shut down (a leader that lost its Lease must exit), named so that
 * a thread dump says whose each one is.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** Daemon threads all named {@code name} (an executor of one thread). */
  public static ThreadFactory named(String name) {
    return r -> daemon(r, name);
  }

  /** Daemon threads named {@code prefix-1}, {@code prefix-2}, ... in the order made. */
  public static ThreadFactory numbered(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> daemon(r, prefix + "-" + n.incrementAndGet());
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }
}
