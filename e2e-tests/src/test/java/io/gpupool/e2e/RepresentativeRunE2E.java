package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.api.ApiAccessLog;
import io.gpupool.sandbox.api.ApiCall;
import io.gpupool.sandbox.chain.PoolStakes;
import io.gpupool.sandbox.chain.SandboxChain;
import io.gpupool.sandbox.dcgm.SimulatedDcgmExporter;
import io.gpupool.sandbox.pool.PoolFile;
import io.gpupool.sandbox.pool.PoolSpec;
import java.io.IOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * One representative run of the packaged operator in the sandbox — the examples (data-parallel and
 * pipeline training, a sharded inference service), a training job that loses a node, one that
 * fails, one that cannot be placed, the spot-checked real torch job of examples/workloads that the
 * dishonest provider trains, billing settled on anvil — watched from two sides:
 *
 * <ul>
 *   <li>Debian's Prometheus scrapes the operator and the sandbox's simulated dcgm-exporter, and
 *       every query of every panel (and variable) of the chart's dashboards must return data;
 *   <li>the sandbox API server's access log records every request the operator made (by its user
 *       agent), and the chart's rendered ClusterRole/Role must grant each one and grant nothing the
 *       operator did not use, save a documented allow-list.
 * </ul>
 *
 * The operator runs with the environment the chart's Deployment gives it (billing pointed at the
 * sandbox's anvil).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RepresentativeRunE2E {
  static final String RELEASE_NAMESPACE = ChartRelease.NAMESPACE;
  static final double TIME_SCALE = 20;
  static final Duration STEP = Duration.ofSeconds(2);
  static final String UPDATED_IMAGE = "vllm/vllm-openai:v0.6.4";
  static final Path LOGS = SandboxCluster.REPO.resolve("e2e-tests/target/e2e-logs");

  /**
   * Grants the run cannot exercise, each with the reason it is still needed ("group/resource verb",
   * core group as ""). Keep docs/operations.md (RBAC) in step.
   */
  static final Map<String, String> ALLOWED_UNUSED =
      Map.of(
          "gpupool.io/trainingjobs/finalizers update",
          "no request: the OwnerReferencesPermissionEnforcement admission plugin requires it to"
              + " create pods and Services whose ownerReference sets blockOwnerDeletion",
          "gpupool.io/inferencejobs/finalizers update",
          "no request: OwnerReferencesPermissionEnforcement (blockOwnerDeletion on owned objects)",
          "/configmaps get",
          "a usage ConfigMap whose update conflicts (409) or vanished (404) is re-read from the"
              + " server (ConfigMapBillingStore); the run has no concurrent writer",
          "gpupool.io/trainingjobs get",
          "the meter finds a new pod's TrainingJob in the controller's cache and GETs it only when"
              + " the cache does not hold it yet (UsageMeter); in the run every job is cached first",
          "coordination.k8s.io/leases update",
          "no request (the Lease is renewed with patches), but JOSDK's LeaderElectionManager"
              + " refuses to start unless its SelfSubjectRulesReview shows get, create and update");

  /**
   * Grants for GpuQueues, which the run does not apply (QueueE2E and QueueAdmissionIT use them).
   */
  static final Map<String, String> ALLOWED_UNUSED_QUEUES =
      Map.of(
          "gpupool.io/gpuqueues patch",
          "no GpuQueue in the run: a queue's finalizer is added and removed by patch",
          "gpupool.io/gpuqueues/status patch",
          "no GpuQueue in the run: a queue's status is written with a JSON patch",
          "/namespaces get",
          "no GpuQueue in the run: with queues, a job's namespace gpupool.io/queue label is read",
          "scheduling.k8s.io/priorityclasses get",
          "no example names a priorityClassName: its value is read with a cached GET");

  static final Path SPOT_CHECKED =
      SandboxCluster.REPO.resolve("examples/workloads/ddp-spotcheck.yaml");
  static final String DISHONEST = "bargain-h100-hub";
  static final String DISHONEST_4090 = "us-east-4090-bargain-1";
  static final String DISHONEST_ADDRESS = "0xBcd4042DE499D14e55001CcbB24a551F3b954096";
  static final List<String> HONEST =
      List.of(
          "atlas-compute",
          "nordic-gpu-coop",
          "brooklyn-render-farm",
          "lakeside-labs",
          "monsoon-ai");

  private SandboxCluster cluster;
  private KubernetesClient dcgmClient;
  private SimulatedDcgmExporter dcgm;
  private PrometheusServer prometheus;
  private Kubectl kubectl;
  private String operatorAgent;
  private String victim;
  private Instant runStart;
  private Instant runEnd;
  private Instant spotCheckApplied;
  private Duration spotCheckTook;

  private static Map<String, String> allowedUnused() {
    Map<String, String> all = new java.util.TreeMap<>(ALLOWED_UNUSED);
    all.putAll(ALLOWED_UNUSED_QUEUES);
    return all;
  }

  @BeforeAll
  void startAndRun() throws Exception {
    // The spot-checked example trains for real (examples/workloads, the sandbox's process mode).
    RealWorkloadsE2E.requireTorch();
    Files.createDirectories(LOGS);
    // The chart's environment; billing and stake settings come from the sandbox's chain instead,
    // challenge settings from the sandbox's simulated GPUs (below).
    Map<String, String> env = new LinkedHashMap<>(ChartRelease.operatorEnvironment());
    env.keySet().removeIf(k -> k.startsWith("GPUPOOL_BILLING_") || k.startsWith("GPUPOOL_TRUST_"));
    operatorAgent = env.get("KUBERNETES_USER_AGENT");
    assertThat(operatorAgent)
        .as("the chart names the operator's user agent")
        .startsWith("gpupool-operator/");
    env.put("POD_NAMESPACE", RELEASE_NAMESPACE);
    env.put("GPUPOOL_NODES_LOST_GRACE_PERIOD", "3s");
    env.put("GPUPOOL_INFERENCE_DRAIN_PERIOD", "2s");
    // Hardware challenges as ./gpupool sandbox runs them: the challenge panels need the dishonest
    // provider caught.
    env.putAll(io.gpupool.sandbox.kubelet.ChallengeAnswers.operatorEnvironment());
    int httpPort = freePort();
    cluster =
        SandboxCluster.startWithChain(
            "representative-run",
            TIME_SCALE,
            SandboxChain.Options.forTimeScale(TIME_SCALE),
            env,
            httpPort);
    kubectl = cluster.kubectl;
    dcgmClient = cluster.sandbox().newClient();
    dcgm = SimulatedDcgmExporter.start(dcgmClient, 0);
    // The chart serves metrics only to permitted tokens (metrics.auth): Prometheus scrapes as a
    // service account bound to the chart's metrics-reader ClusterRole.
    assertThat(env).containsEntry("GPUPOOL_METRICS_AUTH", "true");
    String prometheusToken =
        ChartRelease.metricsReaderToken(
            cluster.client(), cluster.sandbox(), "monitoring", "prometheus");
    prometheus =
        PrometheusServer.start(
            LOGS.resolve("representative-run-prometheus"),
            List.of(
                new PrometheusServer.Target(
                    "gpupool-operator",
                    "127.0.0.1:" + httpPort,
                    "/q/metrics",
                    true,
                    prometheusToken),
                new PrometheusServer.Target(
                    "dcgm-exporter", "127.0.0.1:" + dcgm.port(), "/metrics", false)));
    runStart = Instant.now();
    // Counters must be scraped at 0 before anything happens: increase() cannot see a counter
    // whose first sample already counts the event (a loaded machine starts Prometheus late).
    until(
        "Prometheus scraped the operator's counters",
        () -> hasData("gpupool_job_recoveries_total{kind=\"TrainingJob\"} == 0"));
    runWorkload();
    runEnd = Instant.now();
  }

  @AfterAll
  void stop() {
    for (AutoCloseable c : new AutoCloseable[] {prometheus, dcgm, dcgmClient, cluster}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          System.err.println("closing " + c + ": " + e);
        }
      }
    }
  }

  private static final String RTX_4090 = "NVIDIA-GeForce-RTX-4090";

  private static String teamQueue() {
    return """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: team-rep
          labels:
            gpupool.io/queue: team-rep
        ---
        apiVersion: gpupool.io/v1alpha1
        kind: GpuQueue
        metadata:
          name: team-rep
        spec:
          quotas:
            - name: consumer
              products: [NVIDIA-GeForce-RTX-4090]
              nominal: 1
        ---
        # with billing on, the namespace's jobs are paid by its only account (docs/billing.md)
        apiVersion: gpupool.io/v1alpha1
        kind: BillingAccount
        metadata:
          name: team-rep
        spec:
          payer: "0x976EA74026E726554dB657fA54763abd0C3a0aa9"
          namespaces: [team-rep]
        """;
  }

  private void runWorkload() {
    // At start, so that its real training and checks overlap the rest of the run. Its preferred
    // node affinity puts it on the dishonest provider's RTX 4090 node, though the zone's A100s are
    // cheaper per performance. A preference ranks the nodes free now and reserves nothing, so the
    // examples are applied once it is placed: one applied with it (tinyllama-finetune's four RTX
    // 4090s while the honest ones are being challenged) can be decided first and take one of the
    // node's two GPUs, and the job would run, honestly, on the A100s for the rest. The provider's
    // wrong-answer H100 node is judged meanwhile: that
    // verdict disputes only the jobs that node ran, so this job's usage is left for its own
    // spot-check to dispute.
    kubectl
        .run(
            "apply", "-f", SandboxCluster.REPO.resolve("examples/billing-accounts.yaml").toString())
        .expectSuccess(); // the account it charges
    // Its preferred node placeable, as `kubectl get gpuprovider -o yaml` shows it: the provider's
    // stake read from the chain (until then the stake gate leaves its nodes out) and the node's
    // joining challenge passed. A preference ranks only the nodes placement may use now; under
    // CI's load the job was applied while the node was not yet one of them and went to the A100s.
    until(
        "the stake of " + DISHONEST + " read and " + DISHONEST_4090 + " challenged",
        () ->
            !jsonpath("gpuprovider", DISHONEST, "{.status.stake.staked}").isEmpty()
                && jsonpath("gpuprovider", DISHONEST, "{.status.challenges.passedNodes[*].node}")
                    .contains(DISHONEST_4090));
    kubectl.run("apply", "-f", SPOT_CHECKED.toString()).expectSuccess();
    spotCheckApplied = Instant.now();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/ddp-spotcheck", "--timeout=300s")
        .expectSuccess();
    assertThat(jsonpath("tj", "ddp-spotcheck", "{.status.placements[*].node}"))
        .as(
            "ddp-spotcheck placed by its preference: %s",
            jsonpath("tj", "ddp-spotcheck", "{.status.plan.reason}"))
        .isEqualTo(DISHONEST_4090 + " " + DISHONEST_4090);
    kubectl.run("apply", "-f", SandboxCluster.REPO.resolve("examples").toString()).expectSuccess();

    // A team queue with room for one RTX 4090: the second job waits its turn, so the Queues
    // dashboard sees pending work, an admission wait and admissions. The first runs 200 sandbox
    // seconds (10 s here): the oldest-pending gauge is recomputed at most once a second and
    // scraped every second; a 2 s wait went unsampled once, two E2E classes running at a time.
    kubectl.applyText(teamQueue()).expectSuccess();
    kubectl
        .applyText(QueueE2E.job("team-rep", "queued-1", 1, 1, RTX_4090, QueueE2E.runFor(200)))
        .expectSuccess();
    kubectl
        .applyText(QueueE2E.job("team-rep", "queued-2", 1, 1, RTX_4090, QueueE2E.runFor(20)))
        .expectSuccess();

    // A training job that loses a node mid-run: a recovery, a restart, XID errors on the node.
    kubectl
        .applyText(
            ExamplesE2E.trainingJob("survivor", 2, "400")
                + "  checkpoint:\n    uri: s3://ckpt/survivor\n")
        .expectSuccess();
    waitFor("tj/survivor", "{.status.phase}=Running");
    victim = jsonpath("tj", "survivor", "{.status.placements[1].node}");
    kubectl
        .run("label", "node", victim, "sandbox.gpupool.io/fault=NotReady", "--overwrite")
        .expectSuccess();
    until(
        "survivor rescheduled", () -> "1".equals(jsonpath("tj", "survivor", "{.status.restarts}")));

    // One that fails after a restart, and one no GPU in the pool can take.
    kubectl.applyText(crashingJob()).expectSuccess();
    kubectl.applyText(unplaceableJob()).expectSuccess();
    waitFor(
        "tj/waits-for-h100", "{.status.conditions[?(@.type==\"Scheduled\")].reason}=Unschedulable");

    waitFor("tj/tinyllama-finetune", "{.status.phase}=Succeeded");
    waitFor("tj/pretrain-13b", "{.status.phase}=Succeeded");
    waitFor("tj/crasher", "{.status.phase}=Failed");
    waitFor("tj/survivor", "{.status.phase}=Succeeded");
    kubectl
        .run(
            "wait",
            "-n",
            "team-rep",
            "--for=jsonpath={.status.phase}=Succeeded",
            "tj/queued-1",
            "tj/queued-2",
            "--timeout=300s")
        .expectSuccess();
    until(
        "llama-70b-chat serving",
        () -> jsonpath("ij", "llama-70b-chat", "{.status.phase}").matches("Serving|Degraded"));
    // A rolling update: a new-spec replica surges, the old one is drained (pods relabelled).
    kubectl
        .run(
            "patch",
            "ij",
            "llama-70b-chat",
            "--type=merge",
            "-p",
            "{\"spec\":{\"image\":\"" + UPDATED_IMAGE + "\"}}")
        .expectSuccess();
    until(
        "llama-70b-chat rolled to " + UPDATED_IMAGE,
        () -> {
          String images =
              kubectl
                  .run(
                      "get",
                      "pods",
                      "-l",
                      "gpupool.io/job-name=llama-70b-chat",
                      "-o",
                      "jsonpath={.items[*].spec.containers[0].image}")
                  .out()
                  .trim();
          return !images.isEmpty()
              && java.util.Arrays.stream(images.split("\\s+")).allMatch(UPDATED_IMAGE::equals);
        });

    // An autoscaled service under load: its replica reports 20 in-flight requests against a
    // target of 8, so the Jobs dashboard's inference row has load, a target and a scale-up.
    kubectl.applyText(loadedService()).expectSuccess();
    until(
        "chat-rep scaled up on its load",
        () -> "2".equals(jsonpath("ij", "chat-rep", "{.status.desiredReplicas}")));
    until(
        "chat-rep's load scraped",
        () -> hasData("gpupool_inference_inflight_requests_per_replica{job=\"chat-rep\"}"));

    // Billing: usage metered, settled on anvil, escrow balances read back.
    until("a settlement on chain", () -> hasData("sum(gpupool_settled_amount_total) > 0"));
    until("escrow balances", () -> hasData("gpupool_escrow_balance"));
    until(
        "a settlement transaction timed",
        () -> hasData("sum(gpupool_settlement_transaction_duration_seconds_count) > 0"));

    // Caught, its node quarantined: the preference does not reach past a quarantine, so the job
    // is re-placed on the zone's A100s by itself (no widening: the example allows them) and
    // resumes from the last verified checkpoint.
    Kubectl.Result checked =
        kubectl.run(
            "wait",
            "--for=jsonpath={.status.phase}=Succeeded",
            "tj/ddp-spotcheck",
            "--timeout=400s");
    spotCheckTook = Duration.between(spotCheckApplied, Instant.now());
    System.out.println(
        "ddp-spotcheck: applied to Succeeded in " + spotCheckTook.toSeconds() + " s");
    if (checked.exitCode() != 0) {
      throw new AssertionError(
          "ddp-spotcheck never Succeeded: "
              + checked.err()
              + "\n"
              + kubectl.run("get", "tj", "ddp-spotcheck", "-o", "yaml").out()
              + "\nevents: "
              + kubectl
                  .run("get", "events", "--field-selector", "involvedObject.name=ddp-spotcheck")
                  .out()
              + "\noperator log tail:\n"
              + tail(cluster.operatorLog()));
    }
    kubectl.run("delete", "tj", "waits-for-h100").expectSuccess();
    kubectl.run("delete", "ij", "llama-70b-chat", "--timeout=60s").expectSuccess();
    until(
        "the inference pods gone",
        () ->
            kubectl
                .run("get", "pods", "-l", "gpupool.io/job-name=llama-70b-chat", "-o", "name")
                .out()
                .isBlank());
    SandboxCluster.sleep(3000); // the last scrapes
  }

  private static String loadedService() {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: InferenceJob
        metadata:
          name: chat-rep
          namespace: default
        spec:
          image: ghcr.io/gpupool/examples/serve:0.1
          port: 8000
          env:
            - name: SANDBOX_INFLIGHT_REQUESTS
              value: "20"
          model:
            parameters: 1B
            layers: 16
          replicas:
            min: 1
            max: 2
          autoscaling:
            targetInFlightRequests: 8
          allowGpuSharing: false
          resources:
            gpuModels: ["NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3"]
          budget:
            account: serving
        """;
  }

  private static String crashingJob() {
    return ExamplesE2E.trainingJob("crasher", 1, "20")
            .replace(
                "      value: \"20\"\n",
                "      value: \"20\"\n    - name: SANDBOX_EXIT_CODE\n      value: \"3\"\n")
        + "  restartPolicy: OnFailure\n  backoffLimit: 1\n";
  }

  private static String unplaceableJob() {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata:
          name: waits-for-h100
          namespace: default
        spec:
          image: ghcr.io/gpupool/examples/pretrain:0.1
          parallelism:
            strategy: DataParallel
            workers: 3
            gpusPerWorker: 8
          model:
            parameters: 1B
            layers: 24
          resources:
            gpuModels: ["NVIDIA-H100-80GB-HBM3"]
          budget:
            account: pretraining
        """;
  }

  @Test
  @Order(1)
  void everyDashboardPanelReturnsData() {
    long range = Duration.between(runStart, runEnd).toSeconds() + 1;
    List<String> problems = new ArrayList<>();
    List<DashboardPanels.Query> queries = DashboardPanels.all();
    assertThat(queries).as("dashboards in %s", DashboardPanels.DIR).hasSizeGreaterThan(40);
    StringBuilder report = new StringBuilder();
    for (DashboardPanels.Query q : queries) {
      String expr =
          DashboardPanels.substitute(
              q.expr(), range, STEP.toSeconds(), PrometheusServer.SCRAPE_INTERVAL.toSeconds());
      JsonNode answer = prometheus.queryRange(expr, runStart, runEnd, STEP);
      report
          .append(q)
          .append("\n    series: ")
          .append(answer.path("data").path("result").size())
          .append('\n');
      if (!"success".equals(answer.path("status").asText())) {
        problems.add(q + "\n    -> error: " + answer.path("error").asText());
      } else if (!hasFiniteSample(answer)) {
        problems.add(q + "\n    -> no data between " + runStart + " and " + runEnd);
      }
    }
    writeLog("representative-run-panels.txt", report.toString());
    // "Has data" is not enough where a panel pads with 0 (XID errors "or vector(0)"): the GPU
    // health dashboard must show what happened.
    assertThat(hasData("max(DCGM_FI_DEV_XID_ERRORS{Hostname=\"" + victim + "\"}) == 79"))
        .as("XID 79 on the faulted node %s", victim)
        .isTrue();
    assertThat(hasData("max(DCGM_FI_DEV_GPU_UTIL{pod=~\"survivor-.*\"}) > 50"))
        .as("the survivor's GPUs busy and attributed to its pods")
        .isTrue();
    assertThat(hasData("sum(increase(gpupool_job_recoveries_total{kind=\"TrainingJob\"}[5m])) > 0"))
        .as("the node loss counted as a TrainingJob recovery")
        .isTrue();
    assertThat(problems)
        .as(
            "dashboard panels without data after a representative run (operator log: %s)",
            LOGS.resolve("representative-run-operator.log"))
        .isEmpty();
  }

  @Test
  @Order(2)
  void operatorApiCallsMatchTheChartsRbac() throws IOException {
    ApiAccessLog log = cluster.sandbox().apiServer().accessLog();
    List<ApiCall> calls = log.calls(operatorAgent);
    assertThat(calls)
        .as("requests with the operator's user agent %s (KUBERNETES_USER_AGENT)", operatorAgent)
        .isNotEmpty();
    assertThat(log.dropped()).as("access log complete").isZero();
    writeLog("representative-run-operator-api-calls.txt", summary(calls));

    ClusterRole clusterRole = ChartRelease.operatorClusterRole();
    Role role = ChartRelease.one(Role.class);
    assertThat(role.getMetadata().getNamespace()).isEqualTo(RELEASE_NAMESPACE);
    ClusterRoleBinding clusterBinding = ChartRelease.one(ClusterRoleBinding.class);
    assertThat(clusterBinding.getRoleRef().getName())
        .isEqualTo(clusterRole.getMetadata().getName());
    RoleBinding binding = ChartRelease.one(RoleBinding.class);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());

    RbacComparison.Result result =
        RbacComparison.compare(
            calls, clusterRole.getRules(), role.getRules(), RELEASE_NAMESPACE, allowedUnused());
    assertThat(result.clean())
        .as("%s\nthe operator's calls:\n%s", result.report(), summary(calls))
        .isTrue();
    // The run covered what the operator does: every kind of object it touches.
    assertThat(summary(calls))
        .contains(
            "create core/pods (namespaced)",
            "delete core/pods (namespaced)",
            "create core/services (namespaced)",
            "create core/events (namespaced)",
            "create core/configmaps (namespaced)",
            "watch core/nodes (cluster-wide)",
            "patch gpupool.io/trainingjobs/status (namespaced)",
            "patch gpupool.io/inferencejobs/status (namespaced)",
            "patch gpupool.io/gpuproviders/status (cluster-wide)");
  }

  /**
   * What a newcomer's {@code ./gpupool sandbox} shows of the trust layer (issue #13): the default
   * pool's dishonest provider is challenged, quarantined and slashed on the local chain with the
   * whistleblower paid, while every honest provider stays Verified=True.
   */
  @Test
  @Order(3)
  void theDishonestProviderIsSlashedAndTheHonestOnesStayVerified() {
    // Which way the wrong answer is paid for depends on timing: when a job had paid the provider
    // inside the challenge window by the verdict, a dispute is resolved as fraud; when nothing was
    // left to dispute (no job, or its usage not settled yet: a CI run placed one there), the stake
    // is slashed directly. Either slashes half the stake and rewards the whistleblower.
    String slashed =
        "stake slashed in 0x[0-9a-f]+: slashed "
            + DISHONEST
            + "'s stake|fraud verdict in 0x[0-9a-f]+: dispute against "
            + DISHONEST
            + " ";
    until(
        "bargain-h100-hub's wrong answer paid for",
        () -> java.util.regex.Pattern.compile(slashed).matcher(events("ChallengeDispute")).find());
    assertThat(verified(DISHONEST)).isEqualTo("False");
    assertThat(jsonpath("gpuprovider", DISHONEST, "{.status.challenges.quarantined[*].outcome}"))
        .contains("WrongResult")
        .contains("TooSlow");
    // Each slash takes half the stake and pays half of that to the whistleblower (the operator's
    // own address), burning the rest: what the stake lost is twice the reward, whether one
    // dispute, several (one per job the lying node ran, and the spot-check's) or a direct slash
    // took it.
    SandboxChain chain = cluster.chain();
    PoolSpec pool = PoolFile.loadDefault();
    BigInteger staked =
        PoolStakes.stakeOf(
            pool,
            pool.providers().stream()
                .filter(p -> p.name().equals(DISHONEST))
                .findFirst()
                .orElseThrow());
    BigInteger left = chain.stake(DISHONEST_ADDRESS);
    BigInteger reward = chain.reward(SandboxChain.reporter().getAddress());
    assertThat(reward).as("the whistleblower paid").isPositive();
    assertThat(left).as("slashed").isLessThan(staked);
    assertThat(staked.subtract(left))
        .as("stake lost, twice the reward")
        .isEqualTo(reward.shiftLeft(1));
    for (String honest : HONEST) {
      until(honest + " Verified=True", () -> "True".equals(verified(honest)));
    }
  }

  /**
   * What a newcomer sees of examples/workloads/ddp-spotcheck.yaml (issue #15): placed on the
   * dishonest provider's RTX 4090 node, whose processes skip every 3rd optimizer step, the replay
   * of interval 0..5 disagrees, a referee on a third provider recomputes step 3 and sides with the
   * verifier; the provider's usage of the job is forfeited, its earnings from the job disputed and
   * returned to the payer by the fraud verdict on the sandbox's chain (stake slashed), its node
   * quarantined; the job resumes on honest nodes by itself (its preferred node affinity drew it to
   * the cheat, its allowed A100s take it after the quarantine: no patch) and ends Succeeded with
   * every interval after the catch verified.
   */
  @Test
  @Order(4)
  void theSpotCheckedExampleCatchesTheSkippedStepsAndEndsOnHonestNodes() throws IOException {
    String job = "ddp-spotcheck";
    String dispute = jobEvents(job, "SpotCheckDispute");
    System.out.println("ddp-spotcheck: " + dispute);
    // Its pair was paid (settled every 3 s) before the checks caught it: a dispute, not a direct
    // slash (which the hardware challenge's slash of the same provider would refuse as too soon).
    assertThat(dispute)
        .contains(DISHONEST + " over")
        .contains("opened in 0x")
        .contains("resolved as fraud")
        .doesNotContain("not given")
        .contains("usage of this job on " + DISHONEST)
        .contains("is forfeited");
    java.util.regex.Matcher frozen =
        java.util.regex.Pattern.compile("([0-9.]+) [A-Z]+ frozen").matcher(dispute);
    assertThat(frozen.find()).as("an amount frozen: %s", dispute).isTrue();
    assertThat(new java.math.BigDecimal(frozen.group(1))).as("earnings frozen").isPositive();
    assertThat(jobEvents(job, "ProviderAtFault")).contains(DISHONEST);

    JsonNode checks =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(jsonpath("tj", job, "{.status.verification.pods}"));
    JsonNode referee = null;
    for (JsonNode p : checks) {
      assertThat(p.path("provider").asText())
          .as("no check on the cheat's own provider: %s", checks)
          .isNotEqualTo(DISHONEST);
      if ("referee".equalsIgnoreCase(p.path("role").asText())) {
        referee = p;
      }
    }
    assertThat(referee).as("a referee ran: %s", checks).isNotNull();
    assertThat(referee.path("fromStep").asLong()).isZero();
    assertThat(referee.path("step").asLong()).as("the first skipped step").isEqualTo(3);
    assertThat(referee.path("outcome").asText()).isEqualTo("provider_at_fault");

    assertThat(jsonpath("gpuprovider", DISHONEST, "{.status.challenges.quarantined[*].outcome}"))
        .contains("WrongWork");
    assertThat(jsonpath("gpuprovider", DISHONEST, "{.status.challenges.quarantined[*].node}"))
        .contains(DISHONEST_4090);

    assertThat(jsonpath("tj", job, "{.status.phase}")).isEqualTo("Succeeded");
    assertThat(Integer.parseInt(jsonpath("tj", job, "{.status.restarts}"))).isPositive();
    String nodes = jsonpath("tj", job, "{.status.placements[*].node}");
    assertThat(nodes).as("ended on honest nodes").isNotBlank().doesNotContain("bargain");
    // The only honest nodes the example allows: the zone's A100s (us-east-1b), lakeside-labs'.
    assertThat(jsonpath("tj", job, "{.status.placements[*].provider}").split(" "))
        .as("placed on %s", nodes)
        .containsOnly("lakeside-labs");
    assertThat(nodes.split(" ")).allMatch(n -> n.startsWith("us-east-a100-"));
    assertThat(jsonpath("tj", job, "{.status.verification.disputes}")).isEqualTo("1");
    assertThat(jsonpath("tj", job, "{.status.verification.lastVerifiedCheckpoint}"))
        .isEqualTo("10");
    assertThat(jsonpath("tj", job, "{.status.conditions[?(@.type==\"Verified\")].reason}"))
        .isEqualTo("SpotChecksPassed");
    System.out.printf(
        "ddp-spotcheck: %d s from apply to Succeeded; ended on %s; verified %s, failed %s,"
            + " verification GPU-s %s%n",
        spotCheckTook.toSeconds(),
        nodes,
        jsonpath("tj", job, "{.status.verification.verifiedIntervals}"),
        jsonpath("tj", job, "{.status.verification.failedIntervals}"),
        jsonpath("tj", job, "{.status.verification.gpuSeconds}"));
  }

  private String jobEvents(String job, String reason) {
    return kubectl.eventMessages(job, reason);
  }

  private String verified(String provider) {
    return jsonpath(
        "gpuprovider", provider, "{.status.conditions[?(@.type==\"Verified\")].status}");
  }

  private String events(String reason) {
    return kubectl
        .run(
            "get",
            "events",
            "-A",
            "-o",
            "jsonpath={.items[?(@.reason==\"" + reason + "\")].message}")
        .out();
  }

  private static void writeLog(String name, String text) {
    try {
      Files.writeString(LOGS.resolve(name), text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The distinct (verb, group/resource, namespaced or not) of {@code calls}, one a line. */
  static String summary(List<ApiCall> calls) {
    TreeSet<String> lines = new TreeSet<>();
    for (ApiCall c : calls) {
      lines.add(
          c.verb()
              + " "
              + (c.group().isEmpty() ? "core" : c.group())
              + "/"
              + c.resource()
              + (c.namespaced() ? " (namespaced)" : " (cluster-wide)"));
    }
    return String.join("\n", lines) + "\n";
  }

  private boolean hasData(String promql) {
    return hasFiniteSample(prometheus.queryRange(promql, runStart, Instant.now(), STEP));
  }

  /** At least one sample of one series is a number (NaN and ±Inf show as nothing in Grafana). */
  static boolean hasFiniteSample(JsonNode answer) {
    for (JsonNode series : answer.path("data").path("result")) {
      JsonNode values = series.has("values") ? series.path("values") : series.path("value");
      List<JsonNode> samples = new ArrayList<>();
      if (series.has("values")) {
        values.forEach(samples::add);
      } else if (!values.isMissingNode()) {
        samples.add(values);
      }
      for (JsonNode sample : samples) {
        String v = sample.path(1).asText();
        if (!v.isEmpty() && !v.equals("NaN") && !v.endsWith("Inf")) {
          return true;
        }
      }
    }
    return false;
  }

  private String jsonpath(String kind, String name, String path) {
    return kubectl.run("get", kind, name, "-o", "jsonpath=" + path).out().trim();
  }

  private void waitFor(String object, String jsonpathCondition) {
    Kubectl.Result r =
        kubectl.run("wait", "--for=jsonpath=" + jsonpathCondition, object, "--timeout=150s");
    if (r.exitCode() != 0) {
      throw new AssertionError(
          object
              + " never reached "
              + jsonpathCondition
              + ": "
              + r.err()
              + "\n"
              + kubectl.run("get", object, "-o", "yaml").out()
              + "\noperator log tail:\n"
              + tail(cluster.operatorLog()));
    }
  }

  private void until(String what, Supplier<Boolean> condition) {
    try {
      await()
          .alias(what)
          .atMost(Duration.ofSeconds(180))
          .pollInterval(Duration.ofSeconds(1))
          .until(condition::get);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          what + " did not happen in 180 s\noperator log tail:\n" + tail(cluster.operatorLog()), e);
    }
  }

  private static String tail(String log) {
    List<String> lines = log.lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
