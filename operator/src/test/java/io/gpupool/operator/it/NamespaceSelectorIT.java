package io.gpupool.operator.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.api.v1alpha1.InferenceJob;
import io.gpupool.api.v1alpha1.InferenceJobSpec;
import io.gpupool.api.v1alpha1.ModelSpec;
import io.gpupool.api.v1alpha1.Parallelism;
import io.gpupool.api.v1alpha1.ReplicaRange;
import io.gpupool.api.v1alpha1.TrainingJob;
import io.gpupool.api.v1alpha1.TrainingJobSpec;
import io.gpupool.operator.inference.InferenceJobReconciler;
import io.gpupool.operator.scope.SelectedNamespaces;
import io.gpupool.operator.training.TrainingJobReconciler;
import io.javaoperatorsdk.operator.Operator;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * An install scoped by label selector ({@code gpupool.scope.namespace-selector}) against the mock
 * API server: jobs in matching namespaces are reconciled, jobs elsewhere get no status and no
 * finalizer, and labelling a namespace later brings its jobs in without a restart.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
@TestProfile(NamespaceSelectorIT.Selected.class)
class NamespaceSelectorIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final String LABEL = "gpupool.io/pool";

  /** This install manages the namespaces labelled gpupool.io/pool=it. */
  public static class Selected implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
      return Map.of("gpupool.scope.namespace-selector", LABEL + "=it");
    }
  }

  @Inject KubernetesClient client;
  @Inject SelectedNamespaces selected;
  @Inject Operator operator;

  @KubernetesTestServer KubernetesServer server;

  /** The namespaces each informer of {@code controller} watches (JOSDK's health view of them). */
  private Set<String> watched(String controller) {
    Set<String> namespaces = new TreeSet<>();
    operator
        .getRegisteredController(controller)
        .orElseThrow()
        .getControllerHealthInfo()
        .informerEventSourceHealthIndicators()
        .values()
        .forEach(i -> namespaces.addAll(i.informerHealthIndicators().keySet()));
    return namespaces;
  }

  private void namespace(String name, Map<String, String> labels) {
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(name)
                .withLabels(labels)
                .endMetadata()
                .build())
        .create();
  }

  private static TrainingJob trainingJob(String namespace, String name) {
    TrainingJob job = new TrainingJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    TrainingJobSpec spec = new TrainingJobSpec();
    spec.image = "ghcr.io/example/finetune:1.0";
    spec.parallelism = new Parallelism();
    spec.parallelism.workers = 1;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    job.setSpec(spec);
    return job;
  }

  private static InferenceJob inferenceJob(String namespace, String name) {
    InferenceJob job = new InferenceJob();
    job.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    InferenceJobSpec spec = new InferenceJobSpec();
    spec.image = "ghcr.io/example/serve:1";
    spec.port = 8000;
    spec.model = new ModelSpec();
    spec.model.parameters = "1B";
    spec.model.layers = 24;
    spec.replicas = new ReplicaRange();
    spec.replicas.min = 1;
    spec.replicas.max = 1;
    job.setSpec(spec);
    return job;
  }

  private TrainingJob training(String namespace, String name) {
    return client.resources(TrainingJob.class).inNamespace(namespace).withName(name).get();
  }

  private InferenceJob inference(String namespace, String name) {
    return client.resources(InferenceJob.class).inNamespace(namespace).withName(name).get();
  }

  @Test
  void onlyTheSelectedNamespacesJobsAreManagedAndLabellingBringsThemIn() throws Exception {
    namespace("sel-in", Map.of(LABEL, "it"));
    namespace("sel-out", Map.of(LABEL, "other"));
    client.resource(trainingJob("sel-in", "inside")).create();
    client.resource(inferenceJob("sel-in", "serve-inside")).create();
    client.resource(trainingJob("sel-out", "outside")).create();
    client.resource(inferenceJob("sel-out", "serve-outside")).create();

    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                training("sel-in", "inside").getStatus() != null
                    && inference("sel-in", "serve-inside").getStatus() != null);
    assertThat(selected.manages("sel-in")).isTrue();
    assertThat(selected.manages("sel-out")).isFalse();
    // The informers themselves are narrowed (the jobs' and their pods'), not only the reconcilers.
    assertThat(watched(TrainingJobReconciler.NAME)).containsExactly("sel-in");
    assertThat(watched(InferenceJobReconciler.NAME)).containsExactly("sel-in");
    // The selected jobs had several reconciles by now; the others must have had none.
    assertThat(training("sel-out", "outside").getStatus()).isNull();
    assertThat(training("sel-out", "outside").getMetadata().getFinalizers()).isEmpty();
    assertThat(inference("sel-out", "serve-outside").getStatus()).isNull();
    assertThat(inference("sel-out", "serve-outside").getMetadata().getFinalizers()).isEmpty();

    client.namespaces().withName("sel-out").edit(ns -> labelled(ns, "it"));
    await()
        .atMost(TIMEOUT)
        .until(
            () ->
                training("sel-out", "outside").getStatus() != null
                    && inference("sel-out", "serve-outside").getStatus() != null);
    assertThat(training("sel-out", "outside").getMetadata().getFinalizers()).isNotEmpty();
    assertThat(watched(TrainingJobReconciler.NAME)).containsExactly("sel-in", "sel-out");

    // Out of the selection again: new jobs there are left alone.
    client.namespaces().withName("sel-out").edit(ns -> labelled(ns, "gone"));
    await().atMost(TIMEOUT).until(() -> !selected.manages("sel-out"));
    await()
        .atMost(TIMEOUT)
        .until(() -> watched(TrainingJobReconciler.NAME).equals(Set.of("sel-in")));
    client.resource(trainingJob("sel-out", "later")).create();
    client.resource(trainingJob("sel-in", "later")).create();
    await().atMost(TIMEOUT).until(() -> training("sel-in", "later").getStatus() != null);
    assertThat(training("sel-out", "later").getStatus()).isNull();
    assertThat(training("sel-out", "later").getMetadata().getFinalizers()).isEmpty();

    // The selector's namespaces and billing's payer check read the same watch.
    assertThat(new ApiRequests(server).watchesByKind().get("namespaces"))
        .as("Namespace watches opened")
        .hasSize(1);
  }

  private static io.fabric8.kubernetes.api.model.Namespace labelled(
      io.fabric8.kubernetes.api.model.Namespace ns, String value) {
    ns.getMetadata().setLabels(new java.util.HashMap<>(Map.of(LABEL, value)));
    return ns;
  }
}
