package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Applies the CRDs and the rendered manifests to the Fabric8 mock API server (CRUD mode) with the
 * Fabric8 client and reads every object back. Never `helm install` (toolchain.md).
 */
@EnableKubernetesMockClient(crud = true)
class ChartMockServerIT {
  static KubernetesMockServer server;
  static KubernetesClient client;

  @Test
  void crdsAndRenderedManifestsAreAcceptedAndReadBack() throws IOException {
    List<String> crdNames = applyChartCrds();
    // The chart ships every CRD users can apply from crds/, and each is accepted and read back.
    assertThat(crdNames)
        .hasSizeGreaterThanOrEqualTo(3)
        .containsExactlyInAnyOrderElementsOf(userCrds());
    // Stand-ins for the Prometheus Operator's CRDs, which a real cluster must have for these kinds.
    client.resource(prometheusOperatorCrd("ServiceMonitor", "servicemonitors")).create();
    client.resource(prometheusOperatorCrd("PrometheusRule", "prometheusrules")).create();

    String namespace = "ml-platform";
    client
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata().build())
        .create();
    List<HasMetadata> rendered = Chart.render(namespace, Chart.productionValues()).resources();
    assertThat(rendered)
        .extracting(HasMetadata::getKind)
        .contains("ServiceMonitor", "PrometheusRule");

    for (HasMetadata resource : rendered) {
      HasMetadata created = client.resource(resource).create();
      assertThat(created.getMetadata().getUid()).as("created %s", describe(resource)).isNotBlank();
    }
    for (HasMetadata resource : rendered) {
      HasMetadata stored = client.resource(resource).get();
      assertThat(stored).as("read back %s", describe(resource)).isNotNull();
      assertThat(stored.getMetadata().getLabels()).isEqualTo(resource.getMetadata().getLabels());
      assertThat(withoutServerFields(stored))
          .as("%s round-trips unchanged", describe(resource))
          .isEqualTo(withoutServerFields(resource));
    }

    Deployment deployment =
        client.apps().deployments().inNamespace(namespace).withName("gpupool").get();
    assertThat(deployment.getSpec().getReplicas()).isEqualTo(3);
    // The rules themselves are checked against files/rbac.yaml by ChartRenderTest; here: the
    // ClusterRole arrives whole.
    ClusterRole renderedRole =
        rendered.stream()
            .filter(r -> r instanceof ClusterRole && "gpupool".equals(r.getMetadata().getName()))
            .map(ClusterRole.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(client.rbac().clusterRoles().withName("gpupool").get().getRules())
        .isNotEmpty()
        .isEqualTo(renderedRole.getRules());
    assertThat(
            client
                .configMaps()
                .inNamespace(namespace)
                .withLabel("grafana.io/dashboard", "gpupool")
                .list()
                .getItems())
        .as("one dashboard ConfigMap per file in %s", Chart.DASHBOARDS)
        .hasSize(dashboardFiles());
    GenericKubernetesResource monitor =
        client
            .genericKubernetesResources("monitoring.coreos.com/v1", "ServiceMonitor")
            .inNamespace(namespace)
            .withName("gpupool")
            .get();
    assertThat(monitor).isNotNull();
  }

  @Test
  void defaultRenderIsAcceptedToo() {
    applyChartCrds();
    String namespace = "gpupool-system";
    List<HasMetadata> rendered = Chart.render(namespace, Map.of()).resources();
    for (HasMetadata resource : rendered) {
      client.resource(resource).createOr(existing -> existing.update());
    }
    for (HasMetadata resource : rendered) {
      assertThat(client.resource(resource).get()).as(describe(resource)).isNotNull();
    }
  }

  private static int dashboardFiles() {
    try (Stream<Path> files = Files.list(Chart.DASHBOARDS)) {
      return (int) files.filter(p -> p.toString().endsWith(".json")).count();
    } catch (IOException e) {
      throw new AssertionError("listing " + Chart.DASHBOARDS, e);
    }
  }

  /** The CRD names in the repository's top-level crds/ (file name = CRD name). */
  private static List<String> userCrds() {
    Path dir = Chart.MODULE.toAbsolutePath().getParent().resolve("crds");
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".gpupool.io.yaml"))
          .map(n -> n.substring(0, n.length() - ".yaml".length()))
          .toList();
    } catch (IOException e) {
      throw new AssertionError("listing " + dir, e);
    }
  }

  private static List<String> applyChartCrds() {
    try (Stream<Path> files = Files.list(Chart.CRDS)) {
      return files
          .filter(p -> p.toString().endsWith(".yaml"))
          .map(
              p -> {
                try (InputStream in = Files.newInputStream(p)) {
                  CustomResourceDefinition crd =
                      Chart.SERIALIZATION.unmarshal(in, CustomResourceDefinition.class);
                  CustomResourceDefinition stored =
                      client.resource(crd).createOr(existing -> existing.update());
                  return client
                      .apiextensions()
                      .v1()
                      .customResourceDefinitions()
                      .withName(stored.getMetadata().getName())
                      .require()
                      .getMetadata()
                      .getName();
                } catch (IOException e) {
                  throw new AssertionError("reading " + p, e);
                }
              })
          .toList();
    } catch (IOException e) {
      throw new AssertionError("listing " + Chart.CRDS, e);
    }
  }

  private static CustomResourceDefinition prometheusOperatorCrd(String kind, String plural) {
    return new CustomResourceDefinitionBuilder()
        .withNewMetadata()
        .withName(plural + ".monitoring.coreos.com")
        .endMetadata()
        .withNewSpec()
        .withGroup("monitoring.coreos.com")
        .withScope("Namespaced")
        .withNewNames()
        .withKind(kind)
        .withPlural(plural)
        .withSingular(kind.toLowerCase())
        .withListKind(kind + "List")
        .endNames()
        .addNewVersion()
        .withName("v1")
        .withServed(true)
        .withStorage(true)
        .withNewSchema()
        .withNewOpenAPIV3Schema()
        .withType("object")
        .withXKubernetesPreserveUnknownFields(true)
        .endOpenAPIV3Schema()
        .endSchema()
        .endVersion()
        .endSpec()
        .build();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> withoutServerFields(HasMetadata resource) {
    Map<String, Object> map = new HashMap<>(Chart.SERIALIZATION.convertValue(resource, Map.class));
    Map<String, Object> metadata = new HashMap<>((Map<String, Object>) map.get("metadata"));
    for (String serverField :
        List.of("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")) {
      metadata.remove(serverField);
    }
    map.put("metadata", metadata);
    map.remove("status");
    return map;
  }

  private static String describe(HasMetadata resource) {
    return resource.getKind() + " " + resource.getMetadata().getName();
  }
}
