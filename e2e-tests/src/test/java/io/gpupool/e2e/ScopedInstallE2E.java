package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A release scoped to one namespace ({@code scope.namespaces=[ml-a]}), with the RBAC the chart
 * renders for it: the operator runs the jobs of ml-a and leaves those of other namespaces alone,
 * and its claim on the TrainingJob CRD names ml-a.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScopedInstallE2E {
  private SandboxCluster cluster;
  private Kubectl kubectl;

  @BeforeAll
  void start() throws IOException {
    cluster = SandboxCluster.startScoped("scoped", 20, Map.of(), List.of("ml-a"));
    kubectl = cluster.kubectl;
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void onlyTheListedNamespacesJobsAreManaged() {
    kubectl.applyText(ExamplesE2E.trainingJob("outside", 1, "20")).expectSuccess();
    kubectl
        .applyText(
            ExamplesE2E.trainingJob("inside", 2, "20")
                .replace("namespace: default", "namespace: ml-a"))
        .expectSuccess();
    kubectl
        .run(
            "wait",
            "--for=jsonpath={.status.phase}=Succeeded",
            "tj/inside",
            "-n",
            "ml-a",
            "--timeout=120s")
        .expectSuccess();
    assertThat(kubectl.run("get", "tj", "outside", "-o", "jsonpath={.status}").out())
        .as("a job outside the release's scope is not touched")
        .isBlank();
    assertThat(kubectl.run("get", "pods", "-l", "gpupool.io/job-name=outside", "-o", "name").out())
        .isBlank();
    assertThat(cluster.operatorLog()).doesNotContain("is forbidden");
    assertThat(
            cluster
                .client()
                .apiextensions()
                .v1()
                .customResourceDefinitions()
                .withName("trainingjobs.gpupool.io")
                .get()
                .getMetadata()
                .getAnnotations())
        .containsEntry(
            "claims.gpupool.io/" + ChartRelease.NAMESPACE + "." + ChartRelease.NAME, "ml-a");
  }
}
