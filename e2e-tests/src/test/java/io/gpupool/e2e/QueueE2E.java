package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * GpuQueues in the sandbox, driven with kubectl: two teams of one cohort, one borrowing the other's
 * idle quota until the other reclaims it; a 16-GPU gang at the head of its queue not starved by a
 * stream of 1-GPU jobs (only a job sure to end in time is backfilled); an urgent job preempting a
 * running one, which gets its notice, goes back to its queue and resumes from its checkpoint; an
 * InferenceJob whose scale-up its queue cannot cover keeps serving at its size and grows when quota
 * frees. The scenarios use disjoint GPU products or run one after another.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QueueE2E {
  private static final Duration WAIT = Duration.ofSeconds(120);
  private SandboxCluster cluster;
  private Kubectl kubectl;

  @BeforeAll
  void start() throws IOException {
    // Load is read every second: the InferenceJob scenario scales on it.
    cluster =
        SandboxCluster.start("queues", 20, Map.of("GPUPOOL_INFERENCE_LOAD_POLL_INTERVAL", "1s"));
    kubectl = cluster.kubectl;
    kubectl
        .run("apply", "-f", SandboxCluster.REPO.resolve("examples/queues/00-teams.yaml").toString())
        .expectSuccess();
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String get(String... args) {
    return kubectl.run(args).expectSuccess().out().trim();
  }

  private String tj(String ns, String name, String path) {
    return get("get", "tj", name, "-n", ns, "-o", "jsonpath=" + path);
  }

  private void until(String what, java.util.concurrent.Callable<Boolean> check) {
    await(what).atMost(WAIT).pollInterval(Duration.ofMillis(500)).until(check);
  }

  static String job(
      String ns, String name, int workers, int gpusEach, String product, String extra) {
    return """
        apiVersion: gpupool.io/v1alpha1
        kind: TrainingJob
        metadata:
          name: %s
          namespace: %s
        spec:
          image: ghcr.io/gpupool/examples/finetune:0.1
          parallelism:
            strategy: DataParallel
            workers: %d
            gpusPerWorker: %d
          model:
            parameters: 1B
            layers: 24
          resources:
            gpuModels: ["%s"]
        %s"""
        .formatted(name, ns, workers, gpusEach, product, extra.indent(2));
  }

  private String gq(String name, String path) {
    return get("get", "gq", name, "-o", "jsonpath=" + path);
  }

  private String admittedReason(String ns, String name) {
    return tj(ns, name, "{.status.conditions[?(@.type==\"Admitted\")].reason}");
  }

  private void waitPhase(String ns, String name, String phase) {
    kubectl
        .run(
            "wait",
            "-n",
            ns,
            "--for=jsonpath={.status.phase}=" + phase,
            "tj/" + name,
            "--timeout=" + WAIT.toSeconds() + "s")
        .expectSuccess();
  }

  /**
   * Deletes and waits, polling with get, until the objects are gone (kubectl's own wait follows a
   * watch, which under load has been seen to miss the last deletion and hang).
   */
  private void deleteAll(String kind, String... where) {
    List<String> delete = new java.util.ArrayList<>(List.of("delete", kind));
    delete.addAll(List.of(where));
    delete.add("--wait=false");
    kubectl.run(delete.toArray(String[]::new)).expectSuccess();
    List<String> list = new java.util.ArrayList<>(List.of("get", kind));
    list.addAll(List.of(where).stream().filter(w -> !w.equals("--all")).toList());
    list.addAll(List.of("-o", "name", "--ignore-not-found"));
    until(
        kind + " " + String.join(" ", where) + " gone",
        () -> get(list.toArray(String[]::new)).isEmpty());
  }

  static String runFor(int seconds) {
    return "env:\n  - name: SANDBOX_RUN_SECONDS\n    value: \"" + seconds + "\"\n";
  }

  /**
   * team-vision saturates: it runs 20 A100 (its 12 plus 8 borrowed from team-nlp, its borrowing
   * limit) and a fourth job waits. team-nlp then asks for 12, within its nominal quota: the cohort
   * reclaims what team-vision borrowed by evicting one 8-GPU job, which goes back to its queue, and
   * team-nlp's job runs.
   */
  @Test
  @Order(1)
  void aTeamBorrowsIdleQuotaAndTheOtherTeamReclaimsIt() {
    String a100 = "NVIDIA-A100-SXM4-80GB";
    String longRun =
        runFor(2400)
            + "checkpoint:\n  uri: s3://ckpt/vision\npreemption:\n  gracePeriodSeconds: 2\n";
    kubectl.applyText(job("team-vision", "v1", 8, 1, a100, longRun)).expectSuccess();
    kubectl.applyText(job("team-vision", "v2", 8, 1, a100, longRun)).expectSuccess();
    kubectl.applyText(job("team-vision", "v3", 4, 1, a100, longRun)).expectSuccess();
    for (String v : new String[] {"v1", "v2", "v3"}) {
      waitPhase("team-vision", v, "Running");
    }
    kubectl.applyText(job("team-vision", "v4", 4, 1, a100, longRun)).expectSuccess();
    until(
        "v4 queued beyond the borrowing limit",
        () -> "Queued".equals(admittedReason("team-vision", "v4")));
    until(
        "team-vision shows 8 borrowed A100",
        () -> "8".equals(gq("team-vision", "{.status.flavors[?(@.name==\"a100\")].borrowed}")));
    assertThat(gq("team-vision", "{.status.flavors[?(@.name==\"a100\")].inUse}")).isEqualTo("20");
    assertThat(tj("team-vision", "v4", "{.status.queue.position}")).isEqualTo("1");

    kubectl.applyText(job("team-nlp", "n1", 12, 1, a100, runFor(300))).expectSuccess();
    waitPhase("team-nlp", "n1", "Running");
    List<String> preempted =
        Stream.of("v1", "v2", "v3")
            .filter(v -> "Preempted".equals(admittedReason("team-vision", v)))
            .toList();
    // Freeing 8 of the borrowed quota takes one 8-GPU job; the 4-GPU job would not be enough.
    assertThat(preempted).hasSize(1).doesNotContain("v3");
    assertThat(tj("team-vision", preempted.get(0), "{.status.queue.preemptions}")).isEqualTo("1");
    assertThat(tj("team-vision", "v3", "{.status.phase}")).isEqualTo("Running");
    until(
        "team-vision back within its nominal quota",
        () -> "0".equals(gq("team-vision", "{.status.flavors[?(@.name==\"a100\")].borrowed}")));
    waitPhase("team-nlp", "n1", "Succeeded");
    // The quota team-nlp no longer uses is lent again: the evicted job resumes.
    waitPhase("team-vision", preempted.get(0), "Running");
    deleteAll("tj", "--all", "-n", "team-vision");
    deleteAll("tj", "--all", "-n", "team-nlp");
  }

  /**
   * A 16-GPU gang waits for one running 1-GPU job (deadline 60 s). What is free is held for it:
   * 1-GPU jobs of unknown length that keep arriving wait behind it, while one whose deadline ends
   * before the running job's is backfilled. The gang runs as soon as the 1-GPU job ends, then the
   * stream follows.
   */
  @Test
  @Order(2)
  void aSixteenGpuGangAtTheHeadIsNotStarvedByAStreamOfOneGpuJobs() {
    String h100 = "NVIDIA-H100-80GB-HBM3";
    String ns = "gang-e2e";
    kubectl
        .applyText(
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: gang-e2e
            ---
            apiVersion: gpupool.io/v1alpha1
            kind: GpuQueue
            metadata:
              name: gang-e2e
            spec:
              namespaces: [gang-e2e]
              quotas:
                - name: h100
                  products: [NVIDIA-H100-80GB-HBM3]
                  nominal: 16
            """)
        .expectSuccess();
    kubectl
        .applyText(job(ns, "first", 1, 1, h100, runFor(300) + "activeDeadlineSeconds: 60\n"))
        .expectSuccess();
    waitPhase(ns, "first", "Running");
    kubectl.applyText(job(ns, "gang", 2, 8, h100, runFor(200))).expectSuccess();
    until("the gang queued at the head", () -> "Queued".equals(admittedReason(ns, "gang")));
    List<String> stream = List.of("small-1", "small-2", "small-3", "small-4");
    for (String small : stream) {
      kubectl.applyText(job(ns, small, 1, 1, h100, runFor(20))).expectSuccess();
    }
    kubectl
        .applyText(job(ns, "backfill", 1, 1, h100, runFor(20) + "activeDeadlineSeconds: 15\n"))
        .expectSuccess();
    waitPhase(ns, "backfill", "Succeeded");
    for (String small : stream) {
      assertThat(admittedReason(ns, small)).as(small).isEqualTo("Queued");
      assertThat(tj(ns, small, "{.status.placements}")).as(small).isEmpty();
    }
    waitPhase(ns, "gang", "Running");
    for (String small : stream) {
      assertThat(tj(ns, small, "{.status.startTime}"))
          .as(small + " started before the gang")
          .isEmpty();
    }
    for (String small : stream) {
      waitPhase(ns, small, "Succeeded");
    }
    deleteAll("tj", "--all", "-n", ns);
    deleteAll("gq", "gang-e2e");
  }

  @Test
  @Order(3)
  void anUrgentJobPreemptsTheVictimCheckpointsAndResumes() {
    String h100 = "NVIDIA-H100-80GB-HBM3";
    kubectl
        .applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: GpuQueue
            metadata:
              name: solo-e2e
            spec:
              namespaces: [default]
              quotas:
                - name: h100
                  products: [NVIDIA-H100-80GB-HBM3]
                  nominal: 8
            """)
        .expectSuccess();
    kubectl
        .applyText(
            job(
                "default",
                "long-run",
                1,
                8,
                h100,
                runFor(600)
                    + "checkpoint:\n  uri: s3://ckpt/long-run\npreemption:\n"
                    + "  gracePeriodSeconds: 3\n"))
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/long-run", "--timeout=120s")
        .expectSuccess();
    kubectl
        .applyText(
            job(
                "default",
                "urgent",
                1,
                8,
                h100,
                runFor(10) + "priorityClassName: gpupool-urgent\n"))
        .expectSuccess();
    // Notice: the victim's pod carries the deadline (the file GPUPOOL_PREEMPT_NOTICE names).
    until(
        "notice on long-run's pod",
        () ->
            !get(
                    "get",
                    "pods",
                    "-l",
                    "gpupool.io/job-name=long-run",
                    "-o",
                    "jsonpath={.items[*].metadata.annotations.gpupool\\.io/preempt-notice}")
                .isEmpty());
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/urgent", "--timeout=120s")
        .expectSuccess();
    assertThat(tj("default", "long-run", "{.status.conditions[?(@.type==\"Admitted\")].reason}"))
        .isEqualTo("Preempted");
    assertThat(tj("default", "long-run", "{.status.queue.preemptions}")).isEqualTo("1");
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Succeeded", "tj/urgent", "--timeout=120s")
        .expectSuccess();
    kubectl
        .run("wait", "--for=jsonpath={.status.phase}=Running", "tj/long-run", "--timeout=120s")
        .expectSuccess();
    assertThat(
            get(
                "get",
                "pods",
                "-l",
                "gpupool.io/job-name=long-run",
                "-o",
                "jsonpath={.items[0].spec.containers[0].env[?(@.name==\"GPUPOOL_RESUME_FROM\")].value}"))
        .isEqualTo("s3://ckpt/long-run");
    deleteAll("tj", "--all", "-n", "default");
    deleteAll("gq", "solo-e2e");
  }

  private String ij(String ns, String name, String path) {
    return get("get", "ij", name, "-n", ns, "-o", "jsonpath=" + path);
  }

  /**
   * A queue of 3 RTX 4090, one held by a TrainingJob: the InferenceJob's minimum is admitted, its
   * scale-up to 4 is held at 2 while it serves (Admitted=True, ScaleUpQueued, the first waiting
   * replica's position in the Position column), it grows to 3 when the TrainingJob goes, and its
   * scale-down gives the quota back.
   */
  @Test
  @Order(4)
  void anInferenceJobsScaleUpWaitsForQuotaWhileItServes() {
    String rtx = "NVIDIA-GeForce-RTX-4090";
    String ns = "serve-e2e";
    kubectl
        .applyText(
            """
            apiVersion: v1
            kind: Namespace
            metadata:
              name: serve-e2e
            ---
            apiVersion: gpupool.io/v1alpha1
            kind: GpuQueue
            metadata:
              name: serve-e2e
            spec:
              namespaces: [serve-e2e]
              quotas:
                - name: consumer
                  products: [NVIDIA-GeForce-RTX-4090]
                  nominal: 3
            """)
        .expectSuccess();
    kubectl.applyText(job(ns, "warm", 1, 1, rtx, runFor(600))).expectSuccess();
    waitPhase(ns, "warm", "Running");
    kubectl
        .applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: InferenceJob
            metadata:
              name: chat
              namespace: serve-e2e
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
                scaleDownStabilizationSeconds: 3
              allowGpuSharing: false
              resources:
                gpuModels: ["NVIDIA-GeForce-RTX-4090"]
            """)
        .expectSuccess();
    until("chat serves one replica", () -> "1".equals(ij(ns, "chat", "{.status.readyReplicas}")));
    assertThat(ij(ns, "chat", "{.status.conditions[?(@.type==\"Admitted\")].reason}"))
        .isEqualTo("Admitted");

    String first = ij(ns, "chat", "{.status.replicas[0].shards[0].pod}");
    kubectl
        .run(
            "annotate",
            "pod",
            first,
            "-n",
            ns,
            "sandbox.gpupool.io/inflight-requests=40",
            "--overwrite")
        .expectSuccess();
    until(
        "the scale-up held at the queue's quota",
        () ->
            "4".equals(ij(ns, "chat", "{.status.desiredReplicas}"))
                && "2".equals(ij(ns, "chat", "{.status.readyReplicas}"))
                && "ScaleUpQueued"
                    .equals(
                        ij(ns, "chat", "{.status.conditions[?(@.type==\"Admitted\")].reason}")));
    assertThat(ij(ns, "chat", "{.status.phase}")).isEqualTo("Serving");
    assertThat(ij(ns, "chat", "{.status.admittedReplicas}")).isEqualTo("2");
    String table = get("get", "ij", "chat", "-n", ns);
    assertThat(table.lines().findFirst().orElseThrow()).contains("POSITION");
    assertThat(ij(ns, "chat", "{.status.queue.position}")).isEqualTo("1");

    // The TrainingJob goes: its GPU is the first waiting replica's.
    deleteAll("tj", "warm", "-n", ns);
    until("chat grows to 3", () -> "3".equals(ij(ns, "chat", "{.status.readyReplicas}")));
    assertThat(ij(ns, "chat", "{.status.admittedReplicas}")).isEqualTo("3");

    // Load gone: one replica again, and the quota of the others back.
    kubectl
        .run(
            "annotate",
            "pod",
            first,
            "-n",
            ns,
            "sandbox.gpupool.io/inflight-requests=0",
            "--overwrite")
        .expectSuccess();
    until(
        "chat back to one admitted replica",
        () -> "1".equals(ij(ns, "chat", "{.status.admittedReplicas}")));
    until(
        "the queue counts one GPU in use",
        () -> "1".equals(gq("serve-e2e", "{.status.flavors[?(@.name==\"consumer\")].inUse}")));
    deleteAll("ij", "--all", "-n", ns);
    deleteAll("gq", "serve-e2e");
  }
}
