package io.gpupool.operator.leader;

import io.gpupool.operator.config.GpupoolConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.ArrayList;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Whether this replica is the one that may change the world: write usage records, settle on chain
 * and (through JOSDK) reconcile. Without leader election this replica leads from start-up; with it,
 * from the moment it holds the Lease. Work that only the leader may do registers with {@link
 * #whenLeading} and starts then, once.
 *
 * <p>Losing the Lease is not handled here: JOSDK exits the process (exit-on-stop-leading), because
 * a deposed leader's in-memory reservations and meter cursors can no longer be trusted; the
 * restarted pod joins as a follower with fresh caches.
 */
@ApplicationScoped
public class Leadership {
  private static final Logger LOG = Logger.getLogger(Leadership.class);

  private final boolean elected;
  private final List<Runnable> pending = new ArrayList<>();
  private boolean leading;

  @Inject
  public Leadership(GpupoolConfig config, MeterRegistry registry) {
    this(config.leaderElection().enabled());
    Gauge.builder("gpupool_operator_leader", this, l -> l.isLeader() ? 1 : 0)
        .description(
            "1 while this operator replica holds the leader Lease (always 1 without election)")
        .register(registry);
  }

  /** A leadership that is {@code elected} (waits for {@link #acquired}) or leads at once. */
  Leadership(boolean elected) {
    this.elected = elected;
    this.leading = !elected;
  }

  /** True when replicas compete for a Lease. */
  public boolean elected() {
    return elected;
  }

  public synchronized boolean isLeader() {
    return leading;
  }

  /** Runs {@code action} now if this replica leads, else when it acquires the Lease. */
  public void whenLeading(Runnable action) {
    synchronized (this) {
      if (!leading) {
        pending.add(action);
        return;
      }
    }
    action.run();
  }

  /** Called when the Lease is acquired: runs every action that waited for it. */
  void acquired() {
    List<Runnable> toRun;
    synchronized (this) {
      if (leading) {
        return;
      }
      leading = true;
      toRun = List.copyOf(pending);
      pending.clear();
    }
    LOG.info("this replica now leads: starting usage metering and settlement");
    for (Runnable action : toRun) {
      try {
        action.run();
      } catch (RuntimeException e) {
        LOG.error("starting leader-only work failed", e);
      }
    }
  }

  /** Called when the Lease is lost (the process is about to exit). */
  synchronized void lost() {
    leading = false;
  }
}
