package io.gpupool.operator.scope;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * At start-up the operator reads the TrainingJob CRD to check and record its install's scope. A
 * chaos run showed replicas exiting on one dropped connection there; against the mock API server, a
 * 503 or 429 is now asked again with back-off, while a refusal (403) still stops start-up at once.
 */
@EnableKubernetesMockClient
class ScopeGuardRetryIT {
  private static final String PATH =
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + ScopeGuard.CRD;

  KubernetesMockServer server;
  KubernetesClient client;
  private KubernetesClient noClientRetries;
  private final List<Long> waits = new ArrayList<>();

  @BeforeEach
  void clientThatDoesNotRetryOnItsOwn() {
    // fabric8 retries some failures itself; without that, every failure reaches the guard
    noClientRetries =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder(client.getConfiguration())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
  }

  @AfterEach
  void close() {
    noClientRetries.close();
  }

  private static CustomResourceDefinition crd(String annotation) {
    CustomResourceDefinitionBuilder b =
        new CustomResourceDefinitionBuilder()
            .withNewMetadata()
            .withName(ScopeGuard.CRD)
            .withResourceVersion("7")
            .endMetadata();
    if (annotation != null) {
      b.editMetadata().addToAnnotations(annotation, "{}").endMetadata();
    }
    return b.build();
  }

  private ScopeGuard guard() {
    return new ScopeGuard(null, noClientRetries, waits::add);
  }

  @Test
  void anApiServerThatFailsTwiceAtStartUpIsAskedAgain() {
    InstallScope self = InstallScope.of("gpupool-system/gpupool", List.of());
    server.expect().get().withPath(PATH).andReturn(503, "unavailable").times(1);
    server.expect().get().withPath(PATH).andReturn(429, "slow down").times(1);
    // read by the guard, then once more by fabric8's patch before it writes
    server.expect().get().withPath(PATH).andReturn(200, crd(null)).times(2);
    server.expect().patch().withPath(PATH).andReturn(200, crd(self.annotationKey())).once();

    guard().claimScope(self);

    assertThat(waits).containsExactly(500L, 1000L);
  }

  @Test
  void aRefusalStopsStartUpAtOnceAndAnOutageAfterEveryAttempt() {
    InstallScope self = InstallScope.of("gpupool-system/gpupool", List.of());
    server.expect().get().withPath(PATH).andReturn(403, "forbidden").once();
    assertThatThrownBy(() -> guard().claimScope(self))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot read CustomResourceDefinition");
    assertThat(waits).isEmpty();

    server.expect().get().withPath(PATH).andReturn(503, "down").always();
    assertThatThrownBy(() -> guard().claimScope(self)).isInstanceOf(IllegalStateException.class);
    assertThat(waits).hasSize(ScopeGuard.ATTEMPTS - 1);
  }
}
