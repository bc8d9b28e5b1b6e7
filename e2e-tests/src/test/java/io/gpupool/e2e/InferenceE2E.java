package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * InferenceJobs in the sandbox, driven with kubectl as a user would: a 70B model sharded across 24
 * GiB cards that survives a shard's node going NotReady, a 3B model packed onto time-sliced GPUs
 * that keeps serving when a node leaves, and scaling 1 → 4 → 1 on the in-flight requests the
 * simulated servers report over HTTP (set per pod with {@code kubectl annotate}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InferenceE2E {
  private static final String TIMEOUT = "--timeout=120s";
  private static final Duration WAIT = Duration.ofSeconds(120);

  private SandboxCluster cluster;
  private Kubectl kubectl;
  private int metricsPort;

  @BeforeAll
  void start() throws IOException {
    metricsPort = OperatorProcess.freePort();
    cluster =
        SandboxCluster.start(
            "inference",
            20,
            Map.of(
                "GPUPOOL_INFERENCE_LOAD_POLL_INTERVAL", "1s",
                "GPUPOOL_INFERENCE_DRAIN_PERIOD", "2s"),
            metricsPort);
    kubectl = cluster.kubectl;
  }

  /**
   * The operator's metric {@code name} for the series carrying every label in {@code labels}
   * ({@code key="value"} fragments), as a Prometheus scrape of its metrics endpoint reads it.
   */
  private double operatorMetric(String name, String... labels) throws Exception {
    String text =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/q/metrics"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return text.lines()
        .filter(l -> l.startsWith(name + "{"))
        .filter(l -> Arrays.stream(labels).allMatch(l::contains))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " " + Arrays.toString(labels) + " missing"));
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** On failure, what a user would look at next: the jobs, their pods, events, operator log. */
  @RegisterExtension
  final TestWatcher dumpOnFailure =
      new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
          System.out.println(
              "--- "
                  + context.getDisplayName()
                  + " failed; cluster state:\n"
                  + kubectl.run("get", "inferencejobs,pods,nodes", "-o", "wide").out()
                  + kubectl.run("get", "events").out()
                  + "--- operator log:\n"
                  + cluster.operatorLog());
        }
      };

  private String jsonpath(String job, String path) {
    return kubectl
        .run("get", "inferencejob", job, "-o", "jsonpath=" + path)
        .expectSuccess()
        .out()
        .trim();
  }

  private void waitFor(String job, String jsonpathCondition) {
    kubectl
        .run("wait", "--for=jsonpath=" + jsonpathCondition, "inferencejob/" + job, TIMEOUT)
        .expectSuccess();
  }

  /** Pod name → value of {@code range} over the job's pods, one line per pod. */
  private Map<String, String> perPod(String job, String fields) {
    String out =
        kubectl
            .run(
                "get",
                "pods",
                "-l",
                "gpupool.io/job-name=" + job,
                "-o",
                "jsonpath={range .items[*]}{.metadata.name}|" + fields + "{\"\\n\"}{end}")
            .expectSuccess()
            .out();
    Map<String, String> byPod = new HashMap<>();
    out.lines()
        .filter(l -> !l.isBlank())
        .forEach(l -> byPod.put(l.substring(0, l.indexOf('|')), l.substring(l.indexOf('|') + 1)));
    return byPod;
  }

  private Map<String, String> env(String pod) {
    String out =
        kubectl
            .run(
                "get",
                "pod",
                pod,
                "-o",
                "jsonpath={range .spec.containers[0].env[*]}{.name}={.value}{\"\\n\"}{end}")
            .expectSuccess()
            .out();
    Map<String, String> env = new HashMap<>();
    out.lines()
        .filter(l -> l.contains("="))
        .forEach(l -> env.put(l.substring(0, l.indexOf('=')), l.substring(l.indexOf('=') + 1)));
    return env;
  }

  private String events(String job) {
    return kubectl
        .run("get", "events", "--field-selector", "involvedObject.name=" + job)
        .expectSuccess()
        .out();
  }

  @Test
  @Order(1)
  void a70bModelIsShardedAcross24GibCardsAndItsGroupMovesOffANodeThatGoesNotReady() {
    kubectl
        .run("apply", "-f", SandboxCluster.REPO.resolve("examples/inference-70b.yaml").toString())
        .expectSuccess();
    String job = "llama-70b-chat";
    waitFor(job, "{.status.phase}=Serving");

    // One replica, one leader/worker group: ~140 GB of weights do not fit one 24 GiB card.
    assertThat(jsonpath(job, "{.status.readyReplicas}")).isEqualTo("1");
    assertThat(jsonpath(job, "{.status.endpoint}"))
        .isEqualTo("http://llama-70b-chat.default.svc:8000");
    int tp = Integer.parseInt(jsonpath(job, "{.status.replicas[0].tensorParallelSize}"));
    int pp = Integer.parseInt(jsonpath(job, "{.status.replicas[0].pipelineParallelSize}"));
    assertThat(tp * pp).as("GPUs in the group").isGreaterThanOrEqualTo(6);
    Map<String, String> nodes = perPod(job, "{.spec.nodeName}");
    assertThat(nodes).hasSize(pp);
    Set<String> workerIndices = new HashSet<>();
    int layers = 0;
    for (String pod : nodes.keySet()) {
      Map<String, String> env = env(pod);
      assertThat(env)
          .containsEntry("LWS_GROUP_SIZE", Integer.toString(pp))
          .containsEntry("PIPELINE_PARALLEL_SIZE", Integer.toString(pp))
          .containsEntry("GPUPOOL_REPLICA_INDEX", "0")
          .containsKey("TENSOR_PARALLEL_SIZE")
          .containsEntry("LWS_LEADER_ADDRESS", "llama-70b-chat-r0-0.llama-70b-chat-r0.default.svc");
      workerIndices.add(env.get("LWS_WORKER_INDEX"));
      layers +=
          Integer.parseInt(env.get("GPUPOOL_LAST_LAYER"))
              - Integer.parseInt(env.get("GPUPOOL_FIRST_LAYER"))
              + 1;
      String memory =
          kubectl
              .run(
                  "get",
                  "node",
                  nodes.get(pod),
                  "-o",
                  "jsonpath={.metadata.labels.nvidia\\.com/gpu\\.memory}")
              .expectSuccess()
              .out()
              .trim();
      assertThat(Integer.parseInt(memory)).as("MiB per GPU").isBetween(24000, 24576);
    }
    Set<String> expectedIndices = new HashSet<>();
    for (int i = 0; i < pp; i++) {
      expectedIndices.add(Integer.toString(i));
    }
    assertThat(workerIndices).isEqualTo(expectedIndices);
    assertThat(layers).as("every layer held exactly once").isEqualTo(80);
    assertThat(
            kubectl
                .run(
                    "get",
                    "service",
                    job,
                    "-o",
                    "jsonpath={.spec.ports[0].port} {.spec.selector.gpupool\\.io/role}")
                .expectSuccess()
                .out())
        .isEqualTo("8000 leader");

    // A shard's node stops reporting: past the grace period the whole group is recreated elsewhere.
    String leader = jsonpath(job, "{.status.replicas[0].shards[0].pod}");
    String lost = jsonpath(job, "{.status.replicas[0].shards[" + (pp - 1) + "].node}");
    kubectl
        .run("label", "node", lost, "sandbox.gpupool.io/fault=NotReady", "--overwrite")
        .expectSuccess();
    try {
      await().atMost(WAIT).until(() -> events(job).contains("NodeLost"));
      await()
          .atMost(WAIT)
          .until(
              () ->
                  "Serving".equals(jsonpath(job, "{.status.phase}"))
                      && !jsonpath(job, "{.status.replicas[0].shards[0].pod}").equals(leader));
      assertThat(jsonpath(job, "{.status.replicas[*].shards[*].node}")).doesNotContain(lost);
      assertThat(perPod(job, "{.spec.nodeName}").values()).doesNotContain(lost);
      assertThat(jsonpath(job, "{.status.readyReplicas}")).isEqualTo("1");
    } finally {
      kubectl
          .run("label", "node", lost, "sandbox.gpupool.io/fault=Ready", "--overwrite")
          .expectSuccess();
    }
    kubectl.run("delete", "inferencejob", job, "--timeout=60s").expectSuccess();
    await().atMost(WAIT).until(() -> perPod(job, "{.spec.nodeName}").isEmpty());
  }

  @Test
  @Order(2)
  void a3bModelPacksSeveralReplicasOntoSharedGpusAndKeepsServingWhenANodeLeaves() {
    kubectl
        .run(
            "apply",
            "-f",
            SandboxCluster.REPO.resolve("examples/inference-3b-shared.yaml").toString())
        .expectSuccess();
    String job = "phi-3b-shared";
    waitFor(job, "{.status.readyReplicas}=4");
    assertThat(jsonpath(job, "{.status.phase}")).isEqualTo("Serving");

    Map<String, String> placement =
        perPod(
            job,
            "{.spec.nodeName} {.spec.containers[0].resources.limits.nvidia\\.com/gpu}"
                + " {.spec.containers[0].env[?(@.name==\"GPUPOOL_GPU_SHARE_MILLI\")].value}");
    assertThat(placement).hasSize(4);
    Map<String, Integer> perNode = new HashMap<>();
    for (String value : placement.values()) {
      String[] p = value.split(" ");
      assertThat(p[1]).as("two of a card's four time slices").isEqualTo("2");
      assertThat(p[2]).as("half a GPU").isEqualTo("500");
      perNode.merge(p[0], 1, Integer::sum);
    }
    assertThat(perNode.values()).as("replicas sharing one card").contains(2);
    for (String node : perNode.keySet()) {
      assertThat(
              kubectl
                  .run(
                      "get",
                      "node",
                      node,
                      "-o",
                      "jsonpath={.metadata.labels.nvidia\\.com/gpu\\.sharing-strategy}"
                          + " {.metadata.labels.nvidia\\.com/gpu\\.replicas}")
                  .expectSuccess()
                  .out())
          .isEqualTo("time-slicing 4");
    }
    assertThat(jsonpath(job, "{.status.totalGpus}")).isEqualTo("2");

    // The node with the most replicas leaves; the others keep serving while they are re-placed.
    String leaving =
        perNode.entrySet().stream()
            .max(Map.Entry.comparingByValue())
            .map(Map.Entry::getKey)
            .orElseThrow();
    AtomicInteger lowestReady = new AtomicInteger(4);
    kubectl
        .run("label", "node", leaving, "sandbox.gpupool.io/fault=Removed", "--overwrite")
        .expectSuccess();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(300))
        .until(
            () -> {
              String ready = jsonpath(job, "{.status.readyReplicas}");
              lowestReady.accumulateAndGet(Integer.parseInt(ready), Math::min);
              return "4".equals(ready)
                  && !jsonpath(job, "{.status.replicas[*].shards[*].node}").contains(leaving)
                  && perPod(job, "{.spec.nodeName}").size() == 4;
            });
    assertThat(lowestReady.get()).as("replicas on the other nodes kept serving").isGreaterThan(0);
    assertThat(perPod(job, "{.spec.nodeName}").values()).doesNotContain(leaving);
    assertThat(jsonpath(job, "{.status.phase}")).isEqualTo("Serving");
    assertThat(kubectl.run("get", "node", leaving).exitCode()).as("node gone").isNotZero();
    kubectl.run("delete", "inferencejob", job, "--timeout=60s").expectSuccess();
  }

  @Test
  @Order(3)
  void scalesOneToFourAndBackToOneOnTheLoadTheServersReport() throws Exception {
    String job = "chat-1b";
    kubectl
        .applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: InferenceJob
            metadata:
              name: chat-1b
              namespace: default
            spec:
              image: ghcr.io/gpupool/examples/serve:0.1
              port: 8000
              env:
                - name: SANDBOX_INFLIGHT_REQUESTS
                  value: "0"
              model:
                parameters: 1B
                layers: 16
              replicas:
                min: 1
                max: 4
              autoscaling:
                targetInFlightRequests: 8
                scaleDownStabilizationSeconds: 5
              allowGpuSharing: false
              resources:
                gpuModels: ["NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3"]
            """)
        .expectSuccess();
    waitFor(job, "{.status.readyReplicas}=1");
    assertThat(jsonpath(job, "{.status.desiredReplicas}")).isEqualTo("1");

    // 40 requests in flight on the one replica, target 8 per replica: scale to ceil(40/8) -> max 4.
    String first = jsonpath(job, "{.status.replicas[0].shards[0].pod}");
    kubectl
        .run("annotate", "pod", first, "sandbox.gpupool.io/inflight-requests=40", "--overwrite")
        .expectSuccess();
    waitFor(job, "{.status.desiredReplicas}=4");
    waitFor(job, "{.status.readyReplicas}=4");
    assertThat(jsonpath(job, "{.status.conditions[?(@.type==\"Scaling\")].reason}"))
        .isIn("ScaledUp", "Steady");
    List<String> providers =
        new ArrayList<>(
            Arrays.asList(jsonpath(job, "{.status.replicas[*].shards[0].provider}").split(" ")));
    assertThat(providers).hasSize(4);
    assertThat(new HashSet<>(providers)).as("spread over providers").hasSizeGreaterThan(1);
    assertThat(events(job)).contains("ScaledUp");
    String chat = "job=\"chat-1b\"";
    assertThat(operatorMetric("gpupool_inference_scale_events_total", chat, "direction=\"up\""))
        .isEqualTo(1.0);
    assertThat(operatorMetric("gpupool_inference_replicas_desired", chat)).isEqualTo(4.0);

    // The load drops: after the stabilization window it drains back to the minimum.
    kubectl
        .run("annotate", "pod", first, "sandbox.gpupool.io/inflight-requests=0", "--overwrite")
        .expectSuccess();
    waitFor(job, "{.status.desiredReplicas}=1");
    await()
        .atMost(WAIT)
        .until(
            () ->
                perPod(job, "{.spec.nodeName}").size() == 1
                    && "1".equals(jsonpath(job, "{.status.readyReplicas}")));
    assertThat(jsonpath(job, "{.status.replicas[*].index}")).isEqualTo("0");
    assertThat(jsonpath(job, "{.status.phase}")).isEqualTo("Serving");
    String events = events(job);
    assertThat(events).contains("ScaledDown", "Draining", "Drained");
    assertThat(operatorMetric("gpupool_inference_scale_events_total", chat, "direction=\"down\""))
        .isGreaterThanOrEqualTo(1.0);
    assertThat(operatorMetric("gpupool_inference_replicas_desired", chat)).isEqualTo(1.0);
    assertThat(operatorMetric("gpupool_inference_inflight_requests", chat)).isEqualTo(0.0);
    kubectl.run("delete", "inferencejob", job, "--timeout=60s").expectSuccess();
  }

  /** An 8 GiB model's InferenceJob on A100s in the given regions, optionally pinned to a node. */
  private String cachedJob(String name, String uri, int sizeGiB, String regions, String node) {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: InferenceJob
        metadata:
          name: %s
          namespace: default
        spec:
          image: ghcr.io/gpupool/examples/serve:0.1
          model:
            parameters: 4B
            layers: 32
          weights:
            uri: %s
            sizeGiB: %d
          replicas:
            min: 1
            max: 1
          allowGpuSharing: false
          resources:
            gpuModels: ["NVIDIA-A100-SXM4-80GB"]
          placement:
            regions: [%s]
        %s"""
        .formatted(
            name,
            uri,
            sizeGiB,
            regions,
            node == null
                ? ""
                : "  template:\n    nodeSelector:\n      kubernetes.io/hostname: " + node + "\n");
  }

  /** Wall seconds until {@code job} has {@code ready} ready replicas. */
  private double secondsUntilReady(String job, int ready, long startNanos) {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> Integer.toString(ready).equals(jsonpath(job, "{.status.readyReplicas}")));
    return (System.nanoTime() - startNanos) / 1e9;
  }

  @Test
  @Order(4)
  void aScaledUpReplicaLandsOnTheNodeThatHoldsItsWeightsAndStartsWarm() throws Exception {
    // Simulated links of 64 MiB per sandbox second (3.2 MiB/s x 20): 8 GiB take 6.4 s here.
    List<String> a100s =
        List.of("eu-west-a100-1", "eu-west-a100-2", "us-east-a100-1", "us-east-a100-2");
    for (String node : a100s) {
      kubectl
          .run(
              "annotate",
              "node",
              node,
              "sandbox.gpupool.io/weights-bandwidth-mib=64",
              "--overwrite")
          .expectSuccess();
    }
    String uri = "hf://example/chat-4b";
    String job = "cached-chat";
    try {
      // 1. One replica, cold: the cheapest A100 (eu-west, 1.39/h) pulls the weights.
      long t0 = System.nanoTime();
      kubectl.applyText(cachedJob(job, uri, 8, "eu-west, us-east", null)).expectSuccess();
      double cold = secondsUntilReady(job, 1, t0);
      String first = jsonpath(job, "{.status.replicas[0].shards[0].node}");
      assertThat(first).startsWith("eu-west-a100");
      assertThat(jsonpath(job, "{.status.replicas[0].cache}")).isEqualTo("Miss");
      double coldFetch =
          Double.parseDouble(jsonpath(job, "{.status.replicas[0].shards[0].weightsFetchSeconds}"));

      // 2. Which us-east A100 a cold replica would take: a job with other weights shows it.
      kubectl
          .applyText(cachedJob("cache-probe", "hf://example/other-1b", 1, "us-east", null))
          .expectSuccess();
      waitFor("cache-probe", "{.status.readyReplicas}=1");
      String coldChoice = jsonpath("cache-probe", "{.status.replicas[0].shards[0].node}");
      String warmNode = coldChoice.equals("us-east-a100-1") ? "us-east-a100-2" : "us-east-a100-1";

      // 3. The other one gets the weights from another job serving the same model, which goes.
      kubectl.applyText(cachedJob("cache-warmup", uri, 8, "us-east", warmNode)).expectSuccess();
      waitFor("cache-warmup", "{.status.readyReplicas}=1");
      assertThat(jsonpath("cache-warmup", "{.status.replicas[0].shards[0].node}"))
          .isEqualTo(warmNode);
      kubectl
          .run("delete", "inferencejob", "cache-probe", "cache-warmup", "--timeout=60s")
          .expectSuccess();
      await()
          .atMost(WAIT)
          .until(
              () ->
                  perPod("cache-probe", "{.spec.nodeName}").isEmpty()
                      && perPod("cache-warmup", "{.spec.nodeName}").isEmpty());

      // 4. Scale to two: the new replica avoids the provider already serving (eu-west) and, of
      // the two free us-east A100s, takes the one holding its weights, not the cold choice.
      long t1 = System.nanoTime();
      kubectl
          .run(
              "patch",
              "inferencejob",
              job,
              "--type=merge",
              "-p",
              "{\"spec\":{\"replicas\":{\"min\":2,\"max\":2}}}")
          .expectSuccess();
      double warm = secondsUntilReady(job, 2, t1);
      assertThat(jsonpath(job, "{.status.replicas[?(@.index==1)].shards[0].node}"))
          .isEqualTo(warmNode);
      assertThat(jsonpath(job, "{.status.replicas[?(@.index==1)].cache}")).isEqualTo("Hit");
      double warmFetch =
          Double.parseDouble(
              jsonpath(job, "{.status.replicas[?(@.index==1)].shards[0].weightsFetchSeconds}"));
      assertThat(jsonpath(job, "{.status.cache.hits}")).isEqualTo("1");
      assertThat(jsonpath(job, "{.status.cache.misses}")).isEqualTo("1");
      assertThat(coldFetch).as("cold fetch, s").isGreaterThan(5.0);
      assertThat(warmFetch).as("warm fetch, s").isLessThan(1.0);
      assertThat(warm)
          .as("warm replica Ready after (s), cold took %.1f s", cold)
          .isLessThan(cold - 4);
      String labels = "job=\"" + job + "\"";
      assertThat(operatorMetric("gpupool_inference_cache_hits_total", labels)).isEqualTo(1.0);
      assertThat(operatorMetric("gpupool_inference_cache_misses_total", labels)).isEqualTo(1.0);
      System.out.printf(
          "weights cache: cold replica Ready in %.1f s (fetch %.2f s), warm in %.1f s (fetch %.2f"
              + " s)%n",
          cold, coldFetch, warm, warmFetch);
      kubectl.run("delete", "inferencejob", job, "--timeout=60s").expectSuccess();
    } finally {
      for (String node : a100s) {
        kubectl.run("annotate", "node", node, "sandbox.gpupool.io/weights-bandwidth-mib-");
      }
    }
  }
}
