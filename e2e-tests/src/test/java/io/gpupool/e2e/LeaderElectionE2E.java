package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalDouble;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Two operator replicas with leader election, as the Helm chart runs them: only the Lease holder
 * acts; when it crashes the other takes over, follows the running job to completion and meters all
 * of its usage, and places new jobs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeaderElectionE2E {
  private static final String LEASE = "gpupool-e2e-leader";
  private static final int RUN_SECONDS = 400;
  private static final double TIME_SCALE = 10;

  private SandboxCluster cluster;
  private OperatorProcess second;
  private Kubectl kubectl;
  private KubernetesClient client;

  /** Short but not twitchy: a loaded CI machine must not make the leader miss its renewals. */
  private static Map<String, String> election() {
    Map<String, String> env = new HashMap<>();
    env.put("GPUPOOL_LEADER_ELECTION_ENABLED", "true");
    env.put("GPUPOOL_LEADER_ELECTION_LEASE_NAME", LEASE);
    env.put("GPUPOOL_LEADER_ELECTION_LEASE_DURATION", "10s");
    env.put("GPUPOOL_LEADER_ELECTION_RENEW_DEADLINE", "8s");
    env.put("GPUPOOL_LEADER_ELECTION_RETRY_PERIOD", "1s");
    env.put("GPUPOOL_NODES_LOST_GRACE_PERIOD", "3s");
    return env;
  }

  @BeforeAll
  void start() throws IOException {
    int firstPort = OperatorProcess.freePort();
    cluster = SandboxCluster.start("leader-a", TIME_SCALE, election(), firstPort);
    kubectl = cluster.kubectl;
    client = cluster.client();
  }

  @AfterAll
  void stop() {
    if (second != null) {
      second.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  private String holder() {
    Lease lease = client.leases().inNamespace(ChartRelease.NAMESPACE).withName(LEASE).get();
    return lease == null || lease.getSpec() == null ? "" : lease.getSpec().getHolderIdentity();
  }

  private String phase(String job) {
    return kubectl.run("get", "tj", job, "-o", "jsonpath={.status.phase}").out().trim();
  }

  @Test
  void onlyTheLeaderActsAndTheOtherReplicaTakesOverWithoutLosingUsage() throws IOException {
    long firstPid = cluster.operatorPid();
    await().atMost(Duration.ofSeconds(30)).until(() -> holder().endsWith("-" + firstPid));

    second = OperatorProcess.start(cluster.operatorKubeconfig(), "leader-b", election());
    second.awaitLog("leader election on", Duration.ofSeconds(90));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> second.gauge("gpupool_operator_leader").isPresent());
    assertThat(second.gauge("gpupool_operator_leader")).hasValue(0.0);
    assertThat(holder()).endsWith("-" + firstPid);

    kubectl
        .applyText(ExamplesE2E.trainingJob("before-failover", 2, Integer.toString(RUN_SECONDS)))
        .expectSuccess();
    kubectl
        .run(
            "wait", "--for=jsonpath={.status.phase}=Running", "tj/before-failover", "--timeout=60s")
        .expectSuccess();
    assertThat(
            client
                .pods()
                .inNamespace("default")
                .withLabel("gpupool.io/job-name", "before-failover")
                .list()
                .getItems())
        .as("one gang, created once: the follower did not place the job as well")
        .hasSize(2);
    assertThat(second.log()).doesNotContain("before-failover");

    cluster.killOperator();
    long secondPid = second.pid();
    await().atMost(Duration.ofSeconds(60)).until(() -> holder().endsWith("-" + secondPid));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> second.gauge("gpupool_operator_leader").equals(OptionalDouble.of(1.0)));

    kubectl.applyText(ExamplesE2E.trainingJob("after-failover", 1, "60")).expectSuccess();
    kubectl
        .run(
            "wait",
            "--for=jsonpath={.status.phase}=Succeeded",
            "tj/after-failover",
            "--timeout=90s")
        .expectSuccess();
    kubectl
        .run(
            "wait",
            "--for=jsonpath={.status.phase}=Succeeded",
            "tj/before-failover",
            "--timeout=120s")
        .expectSuccess();
    assertThat(
            client
                .pods()
                .inNamespace("default")
                .withLabel("gpupool.io/job-name", "before-failover")
                .list()
                .getItems())
        .as("the new leader followed the running gang; it did not restart it")
        .hasSize(2);

    // Usage metered across the failover: both workers' whole runs, in the job's status. Pod
    // timestamps are wall-clock, so a run of RUN_SECONDS sandbox seconds lasts RUN_SECONDS /
    // TIME_SCALE metered seconds.
    double wallSeconds = RUN_SECONDS / TIME_SCALE;
    // Status may still show a figure metered while the job ran; wait for the final one (usage
    // refreshes every few seconds after the end) and fail with the last value if it never comes.
    double[] gpuSeconds = {0};
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              String value =
                  kubectl
                      .run(
                          "get",
                          "tj",
                          "before-failover",
                          "-o",
                          "jsonpath={.status.usage.gpuSeconds}")
                      .out()
                      .trim();
              gpuSeconds[0] = value.isEmpty() ? 0 : Double.parseDouble(value);
              assertThat(gpuSeconds[0])
                  .as("2 GPUs x %.0f s, metered by two replicas in turn", wallSeconds)
                  .isBetween(2 * wallSeconds * 0.95, 2 * wallSeconds * 1.15);
            });
    assertThat(phase("after-failover")).isEqualTo("Succeeded");
  }
}
