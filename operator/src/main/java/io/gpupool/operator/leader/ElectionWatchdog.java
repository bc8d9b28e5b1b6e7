package io.gpupool.operator.leader;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.Periodic;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.util.concurrent.ScheduledExecutorService;
import org.jboss.logging.Logger;

/**
 * Exits a replica whose leader election stopped while it lives on ({@link StalledElection}), as
 * JOSDK exits a leader that lost its Lease: the pod restarts and competes again. Without it a
 * follower whose elector died on an unexpected exception sits idle for good (when every replica is
 * in that state nothing reconciles, meters or settles), and a leader whose renewals stopped keeps
 * acting beside the replica that took the Lease over. Reads the Lease every retry period, as the
 * elector itself does; a failed read decides nothing.
 */
@ApplicationScoped
public class ElectionWatchdog {
  private static final Logger LOG = Logger.getLogger(ElectionWatchdog.class);

  /** How many lease durations the Lease may stay without a live holder that is not this replica. */
  static final int PATIENCE_IN_LEASES = 4;

  private final GpupoolConfig.LeaderElection settings;
  private final KubernetesClient client;
  private final Leadership leadership;
  private final String identity;
  private final Clock clock;
  private final Runnable exit;
  private volatile ScheduledExecutorService timer;

  @Inject
  public ElectionWatchdog(GpupoolConfig config, KubernetesClient client, Leadership leadership) {
    // as JOSDK exits a leader that lost its Lease
    this(
        config.leaderElection(),
        client,
        leadership,
        LeaderElectionProducer.identity(),
        Clock.systemUTC(),
        () -> System.exit(1));
  }

  ElectionWatchdog(
      GpupoolConfig.LeaderElection settings,
      KubernetesClient client,
      Leadership leadership,
      String identity,
      Clock clock,
      Runnable exit) {
    this.settings = settings;
    this.client = client;
    this.leadership = leadership;
    this.identity = identity;
    this.clock = clock;
    this.exit = exit;
  }

  void start(@Observes StartupEvent ignored) {
    if (!settings.enabled()) {
      return;
    }
    String namespace = LeaderElectionProducer.leaseNamespace(settings, client);
    StalledElection election = election();
    timer = Periodic.daemon("gpupool-election-watchdog");
    Periodic.every(
        timer,
        settings.leaseDuration(),
        settings.retryPeriod(),
        "checking the leader election",
        () -> check(election, namespace));
  }

  StalledElection election() {
    return new StalledElection(settings.leaseDuration().multipliedBy(PATIENCE_IN_LEASES));
  }

  void stop(@Observes ShutdownEvent ignored) {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  /** One reading of the Lease; exits the process when the election has stalled. */
  void check(StalledElection election, String namespace) {
    // Read before the request: the reply shows the Lease as it was at some moment after this one,
    // so a slow reply can make it look fresher, never staler, and a replica that led before asking
    // must be the holder then.
    boolean leading = leadership.isLeader();
    Instant sent = clock.instant();
    Lease lease;
    try {
      lease = client.leases().inNamespace(namespace).withName(settings.leaseName()).get();
    } catch (KubernetesClientException e) {
      return; // the API server erred: nothing learnt about the Lease
    }
    StalledElection.Verdict verdict =
        election.read(leading, heldBy(lease, identity), renewedAt(lease), duration(lease), sent);
    switch (verdict) {
      case STALLED_FOLLOWER -> {
        LOG.errorf(
            "the Lease %s/%s has had no live holder since %s and this replica, not leading, has"
                + " not taken it: its leader election has stopped; exiting so that it restarts",
            namespace, settings.leaseName(), election.unheldSince());
        exit.run();
      }
      case DEPOSED_LEADER -> {
        LOG.errorf(
            "this replica (%s) acts as the leader but the Lease %s/%s says otherwise (holder %s,"
                + " renewed %s): its renewals stopped without it noticing; exiting at once so that"
                + " two replicas never act together",
            identity,
            namespace,
            settings.leaseName(),
            lease.getSpec().getHolderIdentity(),
            lease.getSpec().getRenewTime());
        exit.run();
      }
      case RUNNING -> {}
    }
  }

  private static boolean heldBy(Lease lease, String identity) {
    return lease != null
        && lease.getSpec() != null
        && identity.equals(lease.getSpec().getHolderIdentity());
  }

  /** When the holder last renewed the Lease; null without a Lease, holder or renew time. */
  static Instant renewedAt(Lease lease) {
    if (lease == null
        || lease.getSpec() == null
        || lease.getSpec().getHolderIdentity() == null
        || lease.getSpec().getHolderIdentity().isBlank()) {
      return null;
    }
    ZonedDateTime renewed = lease.getSpec().getRenewTime();
    if (renewed == null) {
      renewed = lease.getSpec().getAcquireTime();
    }
    return renewed == null ? null : renewed.toInstant();
  }

  private Duration duration(Lease lease) {
    Integer seconds =
        lease == null || lease.getSpec() == null ? null : lease.getSpec().getLeaseDurationSeconds();
    return seconds == null ? settings.leaseDuration() : Duration.ofSeconds(seconds);
  }
}
