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
 * GpuQueues in the sandbox, driven with kubectl: an urgent job preempts a running one, which gets
 * its notice, goes back to its queue and resumes from its checkpoint. (Two teams sharing a cohort
 * and a gang not starved by 1-GPU jobs are covered by QueueAdmissionIT and gpu-scheduler's
 * AdmissionOrderTest / BorrowingTest; their sandbox versions are not here yet.)
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
}
