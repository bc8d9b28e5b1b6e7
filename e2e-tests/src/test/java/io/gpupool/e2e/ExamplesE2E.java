package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A user's first session: apply examples/ with kubectl, list everything with {@code kubectl get
 * gpupool}, watch training jobs change phase, read the heterogeneous split from status and pod
 * environment, get a clear refusal for a bad manifest, and delete a job with what it owns.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ExamplesE2E {
  private SandboxCluster cluster;
  private Kubectl kubectl;

  @BeforeAll
  void start() throws IOException {
    cluster = SandboxCluster.start("examples", 20, Map.of());
    kubectl = cluster.kubectl;
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void examplesApplyListAndRunToCompletion() {
    kubectl.run("apply", "-f", SandboxCluster.REPO.resolve("examples").toString()).expectSuccess();

    String all = kubectl.run("get", "gpupool").expectSuccess().out();
    assertThat(all)
        .contains(
            "trainingjob.gpupool.io/tinyllama-finetune", "trainingjob.gpupool.io/pretrain-13b")
        .contains("inferencejob.gpupool.io/llama-70b-chat")
        .contains("gpuprovider.gpupool.io/atlas-compute");
    String jobs = kubectl.run("get", "tj").expectSuccess().out();
    assertThat(jobs.lines().findFirst().orElse(""))
        .contains("NAME", "PHASE", "STRATEGY", "GPUS", "COST", "AGE");

    for (String job : new String[] {"tinyllama-finetune", "pretrain-13b"}) {
      kubectl
          .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/" + job, "--timeout=120s")
          .expectSuccess();
    }
    String dp = kubectl.run("get", "tj", "tinyllama-finetune").expectSuccess().out();
    assertThat(dp).contains("Succeeded").contains("DataParallel");
    // Metered usage reaches status (and the COST column) once the pods have ended.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(90))
        .until(
            () ->
                !kubectl
                    .run("get", "tj", "tinyllama-finetune", "-o", "jsonpath={.status.usage.cost}")
                    .out()
                    .isBlank());
    String gpuSeconds =
        kubectl
            .run("get", "tj", "tinyllama-finetune", "-o", "jsonpath={.status.usage.gpuSeconds}")
            .expectSuccess()
            .out();
    assertThat(Double.parseDouble(gpuSeconds))
        .as("4 GPUs for ~60 sandbox seconds")
        .isGreaterThan(0);

    // The pipeline split shows in status and in each stage's environment.
    String layers =
        kubectl
            .run(
                "get",
                "tj",
                "pretrain-13b",
                "-o",
                "jsonpath={range .status.placements[*]}{.stage}:{.firstLayer}-{.lastLayer} {end}")
            .expectSuccess()
            .out();
    assertThat(layers.trim().split(" "))
        .hasSizeGreaterThan(1)
        .allMatch(s -> s.matches("\\d+:\\d+-\\d+"));
    assertThat(layers).startsWith("0:0-");
    assertThat(layers.trim()).endsWith("-39");
    String env =
        kubectl
            .run(
                "get",
                "pod",
                "pretrain-13b-worker-0",
                "-o",
                "jsonpath={range .spec.containers[0].env[*]}{.name}={.value} {end}")
            .expectSuccess()
            .out();
    assertThat(env)
        .contains(
            "GPUPOOL_STAGE_INDEX=0",
            "GPUPOOL_FIRST_LAYER=0",
            "RANK=0",
            "MASTER_ADDR=pretrain-13b-worker-0.pretrain-13b.default.svc");
  }

  @Test
  void watchShowsPhaseChanges() throws Exception {
    Path out = Files.createTempFile("watch", ".txt");
    Process watch = kubectl.start(out, "get", "tj", "-w", "--request-timeout=0");
    try {
      SandboxCluster.sleep(1500);
      kubectl.applyText(trainingJob("watched", 1, "40")).expectSuccess();
      kubectl
          .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/watched", "--timeout=90s")
          .expectSuccess();
      SandboxCluster.sleep(1000);
    } finally {
      watch.destroy();
      watch.waitFor(5, TimeUnit.SECONDS);
    }
    String seen =
        Files.readString(out)
            .lines()
            .filter(line -> line.startsWith("watched "))
            .collect(java.util.stream.Collectors.joining("\n"));
    assertThat(seen).contains("Running").contains("Succeeded");
    assertThat(seen.indexOf("Running")).isLessThan(seen.lastIndexOf("Succeeded"));
  }

  @Test
  void invalidManifestsAreRefusedNamingTheField() {
    Kubectl.Result zeroWorkers = kubectl.applyText(trainingJob("broken", 0, "10"));
    assertThat(zeroWorkers.exitCode()).isNotZero();
    assertThat(zeroWorkers.err())
        .contains("spec.parallelism.workers")
        .contains("greater than or equal to 1");

    Kubectl.Result badElastic =
        kubectl.applyText(
            trainingJob("broken", 2, "10")
                .replace("gpusPerWorker: 1", "gpusPerWorker: 1\n    minWorkers: 3"));
    assertThat(badElastic.exitCode()).isNotZero();
    assertThat(badElastic.err()).contains("minWorkers must not exceed workers");

    Kubectl.Result badPayer =
        kubectl.applyText(trainingJob("broken", 1, "10") + "  budget:\n    payer: \"0x1234\"\n");
    assertThat(badPayer.exitCode()).isNotZero();
    assertThat(badPayer.err()).contains("spec.budget.payer");
    assertThat(kubectl.run("get", "tj", "broken").exitCode()).as("nothing was stored").isNotZero();
  }

  @Test
  void deletingAJobRemovesWhatItOwns() {
    kubectl.applyText(trainingJob("doomed", 2, null)).expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/doomed", "--timeout=60s")
        .expectSuccess();
    assertThat(
            kubectl
                .run("get", "pods", "-l", "gpupool.io/job-name=doomed", "-o", "name")
                .expectSuccess()
                .out()
                .lines())
        .hasSize(2);
    kubectl.run("delete", "tj", "doomed", "--timeout=60s").expectSuccess();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .until(
            () ->
                kubectl
                    .run("get", "pods", "-l", "gpupool.io/job-name=doomed", "-o", "name")
                    .out()
                    .isBlank());
    assertThat(kubectl.run("get", "service", "doomed").exitCode()).isNotZero();
  }

  /** A small data-parallel job on RTX 4090s; {@code runSeconds} null runs until deleted. */
  static String trainingJob(String name, int workers, String runSeconds) {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata:
          name: %s
          namespace: default
        spec:
          image: ghcr.io/gpupool/examples/finetune:0.1
        %s  parallelism:
            strategy: DataParallel
            workers: %d
            gpusPerWorker: 1
          model:
            parameters: 1B
            layers: 24
          resources:
            gpuModels: ["NVIDIA-GeForce-RTX-4090"]
          budget:
            account: finetuning # examples/billing-accounts.yaml; ignored while billing is off
        """
        .formatted(
            name,
            runSeconds == null
                ? ""
                : "  env:\n    - name: SANDBOX_RUN_SECONDS\n      value: \"" + runSeconds + "\"\n",
            workers);
  }
}
