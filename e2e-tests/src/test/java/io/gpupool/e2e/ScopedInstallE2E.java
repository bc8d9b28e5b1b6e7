package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
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

  /**
   * A release scoped by label selector ({@code scope.namespaceSelector=gpupool.io/pool=team-a}):
   * namespaces created and labelled after the operator started are followed, jobs elsewhere get no
   * status, pods or finalizer, and the claim records the selector.
   */
  @Nested
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  class ByLabelSelector {
    private static final String SELECTOR = "gpupool.io/pool=team-a";
    private SandboxCluster selected;
    private Kubectl k;

    @BeforeAll
    void start() throws IOException {
      selected = SandboxCluster.startSelected("scoped-selector", 20, Map.of(), SELECTOR);
      k = selected.kubectl;
    }

    @AfterAll
    void stop() {
      if (selected != null) {
        selected.close();
      }
    }

    private String job(String name, String namespace) {
      return ExamplesE2E.trainingJob(name, 1, "20")
          .replace("namespace: default", "namespace: " + namespace);
    }

    private void awaitSucceeded(String job, String namespace) {
      k.run(
              "wait",
              "--for=jsonpath={.status.phase}=Succeeded",
              "tj/" + job,
              "-n",
              namespace,
              "--timeout=120s")
          .expectSuccess();
    }

    @Test
    void onlyLabelledNamespacesAreManagedAndLabellingOneBringsItsJobsIn() {
      k.run("create", "namespace", "sel-a").expectSuccess();
      k.run("label", "namespace", "sel-a", SELECTOR).expectSuccess();
      k.run("create", "namespace", "sel-b").expectSuccess();
      k.applyText(job("inside", "sel-a")).expectSuccess();
      k.applyText(job("outside", "sel-b")).expectSuccess();
      awaitSucceeded("inside", "sel-a");
      assertThat(k.run("get", "tj", "outside", "-n", "sel-b", "-o", "jsonpath={.status}").out())
          .as("a job in an unlabelled namespace is not touched")
          .isBlank();
      assertThat(
              k.run("get", "tj", "outside", "-n", "sel-b", "-o", "jsonpath={.metadata.finalizers}")
                  .out())
          .isBlank();
      assertThat(
              k.run("get", "pods", "-n", "sel-b", "-l", "gpupool.io/job-name=outside", "-o", "name")
                  .out())
          .isBlank();

      k.run("label", "namespace", "sel-b", SELECTOR).expectSuccess();
      awaitSucceeded("outside", "sel-b");

      assertThat(selected.operatorLog())
          .contains("scope: watching the jobs of [sel-a, sel-b]")
          .doesNotContain("is forbidden");
      assertThat(
              selected
                  .client()
                  .apiextensions()
                  .v1()
                  .customResourceDefinitions()
                  .withName("trainingjobs.gpupool.io")
                  .get()
                  .getMetadata()
                  .getAnnotations())
          .containsEntry(
              "claims.gpupool.io/" + ChartRelease.NAMESPACE + "." + ChartRelease.NAME,
              "selector:" + SELECTOR);
    }
  }
}
