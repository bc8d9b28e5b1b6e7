package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * GpuQueues in the sandbox, driven with kubectl: two teams (examples/queues) where one saturates
 * the cohort and the other is still admitted within its quota, reclaiming what it lent; an urgent
 * job preempts a running one, which gets its notice, goes back to its queue and resumes from its
 * checkpoint; a 16-GPU gang at the head of a queue is not starved by a stream of 1-GPU jobs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QueueE2E {
  private static final Duration WAIT = Duration.ofSeconds(120);
  private SandboxCluster cluster;
  private Kubectl kubectl;

  @BeforeAll
  void start() throws IOException {
    cluster = SandboxCluster.start("queues", 20, Map.of());
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

  static String runFor(int seconds) {
    return "env:\n  - name: SANDBOX_RUN_SECONDS\n    value: \"" + seconds + "\"\n";
  }

  @Test
  @Order(1)
  void oneTeamSaturatesTheOtherIsStillAdmittedWithinItsQuota() {
    String a100 = "NVIDIA-A100-SXM4-80GB";
    // team-nlp asks for 24 A100: its 12 plus the 8 it may borrow run, one job waits.
    for (int i = 0; i < 6; i++) {
      kubectl
          .applyText(
              job(
                  "team-nlp",
                  "nlp-" + i,
                  1,
                  4,
                  a100,
                  runFor(3600) + "preemption:\n  gracePeriodSeconds: 2\n"))
          .expectSuccess();
    }
    until(
        "team-nlp holds 20 A100 and has one job waiting",
        () ->
            "20".equals(get("get", "gq", "team-nlp", "-o", "jsonpath={.status.gpusInUse}"))
                && "1"
                    .equals(
                        get("get", "gq", "team-nlp", "-o", "jsonpath={.status.pendingWorkloads}")));
    assertThat(get("get", "gq", "team-nlp", "-o", "jsonpath={.status.gpusBorrowed}"))
        .isEqualTo("8");
    String waiting =
        get(
            "get",
            "tj",
            "-n",
            "team-nlp",
            "-o",
            "jsonpath={.items[?(@.status.queue.position==1)].metadata.name}");
    assertThat(waiting).startsWith("nlp-");
    assertThat(tj("team-nlp", waiting, "{.status.conditions[?(@.type==\"Admitted\")].reason}"))
        .isEqualTo("Queued");

    // team-vision wants 12, its nominal quota: 4 are free, 8 are reclaimed from team-nlp.
    kubectl.applyText(job("team-vision", "vision-a", 1, 4, a100, runFor(600))).expectSuccess();
    kubectl.applyText(job("team-vision", "vision-b", 2, 4, a100, runFor(600))).expectSuccess();
    for (String name : new String[] {"vision-a", "vision-b"}) {
      kubectl
          .run(
              "wait",
              "--for=jsonpath={.status.phase}=Running",
              "tj/" + name,
              "-n",
              "team-vision",
              "--timeout=120s")
          .expectSuccess();
    }
    until(
        "team-vision's status shows its 12 GPUs",
        () -> "12".equals(get("get", "gq", "team-vision", "-o", "jsonpath={.status.gpusInUse}")));
    until(
        "team-nlp is back within its quota",
        () -> "0".equals(get("get", "gq", "team-nlp", "-o", "jsonpath={.status.gpusBorrowed}")));
    String reasons =
        get(
            "get",
            "tj",
            "-n",
            "team-nlp",
            "-o",
            "jsonpath={.items[*].status.conditions[?(@.type==\"Admitted\")].reason}");
    assertThat(reasons).contains("Preempted");
    assertThat(get("get", "events", "-n", "team-nlp")).contains("Preempted");
    kubectl.run("delete", "tj", "--all", "-n", "team-nlp").expectSuccess();
    kubectl.run("delete", "tj", "--all", "-n", "team-vision").expectSuccess();
  }

  @Test
  @Order(2)
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
    kubectl.run("delete", "tj", "--all", "-n", "default").expectSuccess();
    kubectl.run("delete", "gq", "solo-e2e").expectSuccess();
  }

  @Test
  @Order(3)
  void aSixteenGpuGangAtTheHeadIsNotStarvedByOneGpuJobs() throws InterruptedException {
    String h100 = "NVIDIA-H100-80GB-HBM3";
    kubectl
        .applyText(
            """
            apiVersion: gpupool.io/v1alpha1
            kind: GpuQueue
            metadata:
              name: stream-e2e
            spec:
              namespaces: [default]
              quotas:
                - name: h100
                  products: [NVIDIA-H100-80GB-HBM3]
                  nominal: 16
            """)
        .expectSuccess();
    int next = 0;
    for (; next < 16; next++) {
      kubectl.applyText(job("default", "small-" + next, 1, 1, h100, runFor(200))).expectSuccess();
    }
    until(
        "16 small jobs hold the queue's quota",
        () -> "16".equals(get("get", "gq", "stream-e2e", "-o", "jsonpath={.status.gpusInUse}")));
    kubectl.applyText(job("default", "gang", 2, 8, h100, runFor(10))).expectSuccess();
    // Two new 1-GPU jobs for every one that ends would keep the pool full forever without a
    // hold for the head.
    long deadline = System.nanoTime() + WAIT.toNanos();
    boolean running = false;
    while (!running && System.nanoTime() < deadline) {
      kubectl.applyText(job("default", "small-" + next++, 1, 1, h100, runFor(200))).expectSuccess();
      running = "Running".equals(tj("default", "gang", "{.status.phase}"));
      Thread.sleep(1000);
    }
    assertThat(running)
        .as(
            "the 16-GPU gang runs while 1-GPU jobs keep arriving; gang: %s%nqueue: %s",
            get("get", "tj", "gang", "-o", "yaml"), get("get", "gq", "stream-e2e", "-o", "yaml"))
        .isTrue();
    assertThat(next).as("1-GPU jobs kept arriving behind the gang").isGreaterThan(17);
  }
}
