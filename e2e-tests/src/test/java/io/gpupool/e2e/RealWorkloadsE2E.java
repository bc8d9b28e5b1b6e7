package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.gpupool.sandbox.pool.PoolFile;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The reference workloads (examples/workloads) running for real in the sandbox: torchrun, DDP over
 * gloo and checkpoints on the CPU under simulated GPUs, with the environment the operator writes.
 * Needs Debian's python3-torch.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RealWorkloadsE2E {
  static final String PYTHON = "/usr/bin/python3";
  static final String TORCHRUN = "/usr/bin/torchrun";
  private static final Pattern LOSS = Pattern.compile("\\[rank (\\d)] step (\\d+) loss ([0-9.]+)");

  /**
   * One GPU per node, so a 2-worker job on [H100, RTX 3090] must take one of each; RTX 4090s for
   * the jobs that lose a node and need a replacement; A100s for the served model's replicas.
   */
  private static final String POOL =
      """
      providers:
        - name: mixed-lab
          payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
          prices: {NVIDIA-H100-80GB-HBM3: "2.40", NVIDIA-GeForce-RTX-3090: "0.20",
                   NVIDIA-GeForce-RTX-4090: "0.40", NVIDIA-A100-SXM4-80GB: "1.20"}
      nodeGroups:
        - {namePrefix: lab-h100, count: 1, provider: mixed-lab, region: eu-west, zone: eu-west-1a,
           gpu: {product: NVIDIA-H100-80GB-HBM3, count: 1, memoryMiB: 81559, family: hopper,
                 computeMajor: 9, computeMinor: 0}}
        - {namePrefix: lab-3090, count: 1, provider: mixed-lab, region: eu-west, zone: eu-west-1a,
           gpu: {product: NVIDIA-GeForce-RTX-3090, count: 1, memoryMiB: 24576, family: ampere,
                 computeMajor: 8, computeMinor: 6}}
        - {namePrefix: lab-4090, count: 6, provider: mixed-lab, region: eu-west, zone: eu-west-1b,
           gpu: {product: NVIDIA-GeForce-RTX-4090, count: 1, memoryMiB: 24564,
                 family: ada-lovelace, computeMajor: 8, computeMinor: 9}}
        - {namePrefix: lab-a100, count: 3, provider: mixed-lab, region: eu-west, zone: eu-west-1c,
           gpu: {product: NVIDIA-A100-SXM4-80GB, count: 1, memoryMiB: 81920, family: ampere,
                 computeMajor: 8, computeMinor: 0}}
      """;

  private SandboxCluster cluster;
  private Kubectl kubectl;
  private Path data;

  @BeforeAll
  void start() throws Exception {
    requireTorch();
    cluster =
        SandboxCluster.start(
            "workloads",
            1,
            Map.of(
                "GPUPOOL_INFERENCE_LOAD_POLL_INTERVAL", "2s",
                "GPUPOOL_INFERENCE_DRAIN_PERIOD", "2s"),
            PoolFile.parse(POOL));
    kubectl = cluster.kubectl;
    data = SandboxCluster.REPO.resolve("e2e-tests/target/e2e-logs/workloads-data");
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static void requireTorch() throws Exception {
    Process p =
        new ProcessBuilder(PYTHON, "-c", "import torch")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(
          PYTHON
              + " cannot import torch: install Debian's PyTorch with"
              + " `sudo apt-get install -y --no-install-recommends python3-torch`");
    }
  }

  private String jsonpath(String kind, String name, String path) {
    return kubectl.run("get", kind, name, "-o", "jsonpath=" + path).expectSuccess().out().trim();
  }

  private String logs(String pod) {
    return kubectl.run("logs", pod).expectSuccess().out();
  }

  /** job manifest for ddp_train.py: 2 workers, 64 samples per step. */
  private static String ddpJob(String name, String gpuModels, int steps, double stepSeconds) {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata:
          name: %1$s
          namespace: default
        spec:
          image: ghcr.io/gpupool/workloads:0.1
          command: ["torchrun"]
          args: ["--redirects", "2", "--tee", "1", "/workloads/ddp_train.py",
                 "--steps", "%3$d", "--checkpoint-every", "10", "--step-seconds", "%4$s"]
          parallelism:
            strategy: DataParallel
            workers: 2
            gpusPerWorker: 1
          model:
            parameters: 100M
            layers: 4
            precision: fp32
            globalBatchSize: 64
          resources:
            gpuModels: [%2$s]
          checkpoint:
            uri: s3://checkpoints/%1$s
          restartPolicy: OnFailure
          backoffLimit: 2
        """
        .formatted(name, gpuModels, steps, Double.toString(stepSeconds));
  }

  /** The newest gang generation's pod of {@code rank} (a restarted gang's pods end in -rN). */
  private String latestPod(String job, int rank) {
    String names =
        kubectl
            .run(
                "get",
                "pods",
                "-l",
                "gpupool.io/job-name=" + job + ",gpupool.io/rank=" + rank,
                "-o",
                "jsonpath={.items[*].metadata.name}")
            .expectSuccess()
            .out()
            .trim();
    return java.util.Arrays.stream(names.split(" "))
        .max(
            java.util.Comparator.comparingInt(
                n -> n.matches(".*-r\\d+$") ? Integer.parseInt(n.replaceAll(".*-r", "")) : 0))
        .orElseThrow();
  }

  /** Losses by rank, in step order, from a pod's log. */
  private static Map<Integer, List<Double>> losses(String log) {
    Map<Integer, List<Double>> byRank = new java.util.TreeMap<>();
    Matcher m = LOSS.matcher(log);
    while (m.find()) {
      byRank
          .computeIfAbsent(Integer.parseInt(m.group(1)), r -> new ArrayList<>())
          .add(Double.parseDouble(m.group(3)));
    }
    return byRank;
  }

  private static double mean(List<Double> values) {
    return values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
  }

  @Test
  @Order(1)
  void twoWorkersOnUnlikeGpusTrainWithThePlannersBatchSharesUntilSucceeded() {
    String job = "ddp-mixed";
    kubectl
        .applyText(ddpJob(job, "\"NVIDIA-GeForce-RTX-3090\", \"NVIDIA-H100-80GB-HBM3\"", 60, 0.05))
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + job, "--timeout=180s")
        .expectSuccess();
    String products = jsonpath("tj", job, "{.status.placements[*].gpuModel}");
    System.out.println("ddp-mixed placed on " + products);
    List<Integer> localBatches = new ArrayList<>();
    for (int rank = 0; rank < 2; rank++) {
      String pod = job + "-worker-" + rank;
      String share =
          jsonpath(
              "pod", pod, "{.spec.containers[0].env[?(@.name==\"GPUPOOL_BATCH_SHARE\")].value}");
      String local =
          jsonpath(
              "pod",
              pod,
              "{.spec.containers[0].env[?(@.name==\"GPUPOOL_LOCAL_BATCH_SIZE\")].value}");
      localBatches.add(Integer.parseInt(local));
      String log = logs(pod);
      assertThat(log)
          .contains("[rank " + rank + "] world 2 gpu ")
          .contains("batch share " + share + " local batch " + local + " of global 64");
      List<Double> loss = losses(log).get(rank);
      assertThat(loss).hasSize(60);
      double first = mean(loss.subList(0, 10));
      double last = mean(loss.subList(50, 60));
      System.out.printf(
          "rank %d share %s: loss %.4f (steps 1-10) -> %.4f (51-60)%n", rank, share, first, last);
      assertThat(last).as("rank %d loss falls", rank).isLessThan(first * 0.6);
      assertThat(jsonpath("pod", pod, "{.status.containerStatuses[0].state.terminated.exitCode}"))
          .isEqualTo("0");
    }
    assertThat(localBatches.stream().mapToInt(Integer::intValue).sum()).isEqualTo(64);
    if (products.split(" ").length == 2 && !products.split(" ")[0].equals(products.split(" ")[1])) {
      assertThat(localBatches.get(0))
          .as("unlike GPUs get unlike shares")
          .isNotEqualTo(localBatches.get(1));
    }
    assertThat(new java.util.HashSet<>(List.of(products.split(" ")))).as("unlike GPUs").hasSize(2);
  }

  @Test
  @Order(2)
  void aRankLosesItsNodeAndTheGangResumesFromTheLastCheckpointToTheSameParameters()
      throws Exception {
    String job = "ddp-resume";
    kubectl.applyText(ddpJob(job, "\"NVIDIA-GeForce-RTX-4090\"", 60, 0.2)).expectSuccess();
    String rank0 = job + "-worker-0";
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> logs(rank0).contains("checkpoint step 20 saved"));
    String victim = jsonpath("tj", job, "{.status.placements[1].node}");
    kubectl
        .run("label", "node", victim, "sandbox.gpupool.io/fault=Removed", "--overwrite")
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + job, "--timeout=180s")
        .expectSuccess();
    assertThat(Integer.parseInt(jsonpath("tj", job, "{.status.restarts}"))).isPositive();
    String resumed = logs(latestPod(job, 0));
    Matcher m = Pattern.compile("resumed from checkpoint step (\\d+)").matcher(resumed);
    assertThat(m.find()).as("generation 1 resumed: %s", resumed).isTrue();
    int step = Integer.parseInt(m.group(1));
    System.out.println("ddp-resume: node " + victim + " removed; resumed from step " + step);
    assertThat(step).isBetween(20, 59);
    assertThat(resumed).doesNotContain("step " + step + " loss").contains("step 60 loss");

    List<Double> resumedParams = parameters(data.resolve("objects/checkpoints/" + job));
    List<Double> reference = uninterruptedRun(60);
    assertThat(resumedParams).hasSameSizeAs(reference);
    double worst = 0;
    for (int i = 0; i < reference.size(); i++) {
      worst = Math.max(worst, Math.abs(resumedParams.get(i) - reference.get(i)));
    }
    System.out.printf(
        "ddp-resume: %d parameters, max |resumed - uninterrupted| = %.3g%n",
        reference.size(), worst);
    assertThat(worst).isLessThan(1e-9);
  }

  private static List<Double> parameters(Path checkpoints) throws IOException {
    return List.of(
        new ObjectMapper()
            .readValue(checkpoints.resolve("final-parameters.json").toFile(), Double[].class));
  }

  /** ddp_train.py as one process taking the whole global batch, never interrupted. */
  private List<Double> uninterruptedRun(int steps) throws Exception {
    Path dir = data.resolve("reference-run");
    Files.createDirectories(dir);
    ProcessBuilder pb =
        new ProcessBuilder(
                TORCHRUN,
                "--redirects",
                "2",
                "--tee",
                "1",
                "--nnodes",
                "1",
                "--nproc_per_node",
                "1",
                "--master_addr",
                "127.0.0.1",
                "--master_port",
                Integer.toString(OperatorProcess.freePort()),
                SandboxCluster.REPO.resolve("examples/workloads/ddp_train.py").toString(),
                "--steps",
                Integer.toString(steps),
                "--checkpoint-every",
                "10")
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("out.log").toFile());
    pb.environment().put("GPUPOOL_LOCAL_BATCH_SIZE", "64");
    pb.environment().put("GPUPOOL_CHECKPOINT_URI", dir.resolve("ckpt").toString());
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(dir.resolve("out.log"))).isZero();
    return parameters(dir.resolve("ckpt"));
  }

  @Test
  @Order(3)
  void twoPipelineStagesBuildTheirLayerRangesAndExchangeActivations() {
    String job = "pipeline-e2e";
    kubectl
        .applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: TrainingJob
            metadata:
              name: pipeline-e2e
              namespace: default
            spec:
              image: ghcr.io/gpupool/workloads:0.1
              command: ["torchrun"]
              args: ["--redirects", "2", "--tee", "1", "/workloads/pipeline_train.py",
                     "--steps", "30"]
              parallelism:
                strategy: PipelineParallel
                workers: 2
                gpusPerWorker: 1
              model:
                parameters: 100M
                layers: 8
                precision: fp32
                globalBatchSize: 16
              resources:
                gpuModels: ["NVIDIA-GeForce-RTX-4090"]
              restartPolicy: Never
            """)
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + job, "--timeout=180s")
        .expectSuccess();
    int covered = 0;
    for (int stage = 0; stage < 2; stage++) {
      String first = jsonpath("tj", job, "{.status.placements[" + stage + "].firstLayer}");
      String last = jsonpath("tj", job, "{.status.placements[" + stage + "].lastLayer}");
      String log = logs(job + "-worker-" + stage);
      System.out.println("pipeline-e2e stage " + stage + ": layers " + first + ".." + last);
      assertThat(log).contains("[stage " + stage + "] layers " + first + ".." + last);
      assertThat(log).contains("[stage " + stage + "] done after 30 steps");
      covered += Integer.parseInt(last) - Integer.parseInt(first) + 1;
    }
    assertThat(covered).as("the stages hold all 8 layers").isEqualTo(8);
    assertThat(logs(job + "-worker-0"))
        .contains(
            "[stage 0] step 30 sent activations [16, 32] to stage 1, received their gradient");
    String last = logs(job + "-worker-1");
    assertThat(last).contains("[stage 1] step 30 received activations [16, 32] from stage 0");
    Matcher loss = Pattern.compile("\\[stage 1] step (\\d+) loss ([0-9.]+)").matcher(last);
    List<Double> losses = new ArrayList<>();
    while (loss.find()) {
      losses.add(Double.parseDouble(loss.group(2)));
    }
    assertThat(losses).hasSize(30);
    assertThat(mean(losses.subList(25, 30))).isLessThan(mean(losses.subList(0, 5)));
  }

  @Test
  @Order(4)
  void anElasticJobKeepsTrainingOnTheWorkerLeftWhenNoneCanReplaceTheLostOne() {
    // Only the H100 and the RTX 3090 qualify: losing one leaves nothing to replace it with, and
    // minWorkers 1 lets the operator shrink the gang to the survivor.
    String job = "ddp-elastic";
    kubectl
        .applyText(
            ddpJob(job, "\"NVIDIA-H100-80GB-HBM3\", \"NVIDIA-GeForce-RTX-3090\"", 60, 0.2)
                .replace("    gpusPerWorker: 1\n", "    gpusPerWorker: 1\n    minWorkers: 1\n"))
        .expectSuccess();
    String rank0 = job + "-worker-0";
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> logs(rank0).contains("checkpoint step 10 saved"));
    assertThat(jsonpath("pod", rank0, "{.spec.containers[0].env[?(@.name==\"PET_NNODES\")].value}"))
        .isEqualTo("1:2");
    String victim = jsonpath("tj", job, "{.status.placements[1].node}");
    kubectl
        .run("label", "node", victim, "sandbox.gpupool.io/fault=Removed", "--overwrite")
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + job, "--timeout=180s")
        .expectSuccess();
    String workers = jsonpath("tj", job, "{.status.placements[*].node}");
    String log = logs(latestPod(job, 0));
    System.out.println(
        "ddp-elastic: lost "
            + victim
            + ", gang restarts "
            + jsonpath("tj", job, "{.status.restarts}")
            + ", trained on with "
            + workers);
    assertThat(workers.split(" ")).as("shrunk to the survivor").hasSize(1).doesNotContain(victim);
    assertThat(log).contains("[rank 0] world 1 ").contains("local batch 64 of global 64");
    assertThat(log).containsPattern("resumed from checkpoint step [1-5]\\d");
    assertThat(log).contains("[rank 0] step 60 loss");
  }

  @Test
  @Order(5)
  void aServedTinyModelAnswersThroughItsServiceAndScalesOnRealInFlightRequests() throws Exception {
    String job = "tiny-chat-e2e";
    kubectl
        .applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: InferenceJob
            metadata:
              name: tiny-chat-e2e
              namespace: default
            spec:
              image: ghcr.io/gpupool/workloads:0.1
              command: ["python3"]
              args: ["/workloads/serve.py", "--token-delay", "0.05", "--train-steps", "80"]
              port: 8000
              model:
                parameters: 1B
                layers: 8
                precision: bf16
              replicas:
                min: 1
                max: 3
              autoscaling:
                targetInFlightRequests: 2
                scaleDownStabilizationSeconds: 5
              allowGpuSharing: false
              resources:
                gpuModels: ["NVIDIA-A100-SXM4-80GB"]
            """)
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.readyReplicas}=1", "ij/" + job, "--timeout=180s")
        .expectSuccess();
    String address = cluster.sandbox().kubelet().resolve(job + ".default.svc").orElseThrow();
    HttpClient http = HttpClient.newHttpClient();
    URI completions = URI.create("http://" + address + ":8000/v1/completions");
    HttpRequest first =
        HttpRequest.newBuilder(completions)
            .timeout(Duration.ofSeconds(30))
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"prompt\": \"when a node\", \"max_tokens\": 24}"))
            .build();
    // The Service's proxy follows the pod's readiness a moment after the job's status does (as
    // kube-proxy does): until then a connection is refused, so the first request may be retried.
    HttpResponse<String> answer =
        await("the Service " + address + " accepts connections")
            .atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptionsInstanceOf(ConnectException.class)
            .until(() -> http.send(first, HttpResponse.BodyHandlers.ofString()), r -> r != null);
    assertThat(answer.statusCode()).isEqualTo(200);
    JsonNode body = new ObjectMapper().readTree(answer.body());
    String text = body.path("choices").path(0).path("text").asText();
    System.out.println("tiny-chat-e2e via " + address + ": \"when a node\" -> \"" + text + "\"");
    assertThat(body.path("object").asText()).isEqualTo("text_completion");
    assertThat(text).hasSize(24);

    // Six clients keep requests of ~3 s in flight: 6 per replica against a target of 2.
    AtomicBoolean loading = new AtomicBoolean(true);
    AtomicInteger answered = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(6);
    for (int i = 0; i < 6; i++) {
      clients.execute(
          () -> {
            while (loading.get()) {
              try {
                HttpResponse<String> r =
                    http.send(
                        HttpRequest.newBuilder(completions)
                            .timeout(Duration.ofSeconds(60))
                            .POST(
                                HttpRequest.BodyPublishers.ofString(
                                    "{\"prompt\": \"gpupool\", \"max_tokens\": 60}"))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                  answered.incrementAndGet();
                }
              } catch (IOException e) {
                // a replica going away mid-request: the next one goes elsewhere
              } catch (InterruptedException e) {
                return;
              }
            }
          });
    }
    try {
      kubectl
          .run("wait", "--for=jsonpath={.status.desiredReplicas}=3", "ij/" + job, "--timeout=120s")
          .expectSuccess();
      kubectl
          .run("wait", "--for=jsonpath={.status.readyReplicas}=3", "ij/" + job, "--timeout=180s")
          .expectSuccess();
    } finally {
      loading.set(false);
      clients.shutdown();
    }
    assertThat(clients.awaitTermination(90, TimeUnit.SECONDS)).isTrue();
    System.out.println("tiny-chat-e2e: " + answered.get() + " completions answered under load");
    assertThat(answered.get()).isPositive();
    kubectl
        .run("wait", "--for=jsonpath={.status.desiredReplicas}=1", "ij/" + job, "--timeout=120s")
        .expectSuccess();
  }
}
