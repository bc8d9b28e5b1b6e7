package io.gpupool.operator.leader;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.gpupool.operator.config.GpupoolConfig;
import io.gpupool.operator.config.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A replica whose elector died stays up as a follower for good (fabric8 ends the acquire loop on an
 * unexpected exception, and a follower is not made to exit): against the mock API server, the
 * watchdog exits it once the Lease has had no live holder for four lease durations, and never while
 * another replica renews it or this one leads.
 */
@EnableKubernetesMockClient(crud = true)
class ElectionWatchdogIT {
  private static final String NS = "gpupool-system";
  private static final Instant T0 = Instant.parse("2026-12-07T07:00:00Z");

  KubernetesClient client;
  private static final GpupoolConfig.LeaderElection SETTINGS =
      new GpupoolConfig.LeaderElection() {
        @Override
        public boolean enabled() {
          return true;
        }

        @Override
        public String leaseName() {
          return "gpupool-operator-leader";
        }

        @Override
        public Optional<String> namespace() {
          return Optional.of(NS);
        }

        @Override
        public Duration leaseDuration() {
          return Duration.ofSeconds(15);
        }

        @Override
        public Duration renewDeadline() {
          return Duration.ofSeconds(10);
        }

        @Override
        public Duration retryPeriod() {
          return Duration.ofSeconds(2);
        }
      };

  private void lease(String holder, Instant renewed) {
    Lease lease =
        new LeaseBuilder()
            .withNewMetadata()
            .withName(SETTINGS.leaseName())
            .withNamespace(NS)
            .endMetadata()
            .withNewSpec()
            .withHolderIdentity(holder)
            .withLeaseDurationSeconds(15)
            .withRenewTime(ZonedDateTime.ofInstant(renewed, ZoneOffset.UTC))
            .endSpec()
            .build();
    client.leases().inNamespace(NS).resource(lease).createOr(r -> r.update());
  }

  @Test
  void aFollowerWhoseElectionStoppedExitsOnceTheLeaseStaysUnheld() {
    ManualClock clock = new ManualClock(T0);
    AtomicInteger exits = new AtomicInteger();
    ElectionWatchdog watchdog =
        new ElectionWatchdog(
            SETTINGS, client, new Leadership(true), "vm-me", clock, exits::incrementAndGet);
    StalledElection election = watchdog.election();
    lease("vm-dead-leader", T0.minusSeconds(20)); // its holder died; nobody took it over

    for (int s = 0; s < 60; s += 15) {
      clock.now = T0.plusSeconds(s);
      watchdog.check(election, NS);
    }
    assertThat(exits).as("within four lease durations").hasValue(0);
    clock.now = T0.plusSeconds(60);
    watchdog.check(election, NS);
    assertThat(exits).hasValue(1);
  }

  @Test
  void aLeaseAnotherReplicaRenewsOrThatThisOneHoldsNeverMakesItExit() {
    ManualClock clock = new ManualClock(T0);
    AtomicInteger exits = new AtomicInteger();
    Leadership leadership = new Leadership(true);
    ElectionWatchdog watchdog =
        new ElectionWatchdog(SETTINGS, client, leadership, "vm-me", clock, exits::incrementAndGet);
    StalledElection election = watchdog.election();
    for (int s = 0; s < 300; s += 15) {
      clock.now = T0.plusSeconds(s);
      lease("vm-live-leader", clock.now.minusSeconds(2));
      watchdog.check(election, NS);
    }
    leadership.acquired();
    for (int s = 300; s < 600; s += 2) {
      clock.now = T0.plusSeconds(s);
      lease("vm-me", clock.now.minusSeconds(1));
      watchdog.check(election, NS);
    }
    assertThat(exits).hasValue(0);
  }

  @Test
  void aLeaderTheLeaseNoLongerNamesExitsAtOnce() {
    ManualClock clock = new ManualClock(T0);
    AtomicInteger exits = new AtomicInteger();
    Leadership leadership = new Leadership(true);
    leadership.acquired();
    ElectionWatchdog watchdog =
        new ElectionWatchdog(SETTINGS, client, leadership, "vm-me", clock, exits::incrementAndGet);
    StalledElection election = watchdog.election();
    lease("vm-me", T0.minusSeconds(1));
    watchdog.check(election, NS);
    assertThat(exits).hasValue(0);
    lease("vm-other", T0); // this replica's renewals stopped; another took the Lease over
    clock.now = T0.plusSeconds(2);
    watchdog.check(election, NS);
    assertThat(exits).hasValue(1);
  }
}
