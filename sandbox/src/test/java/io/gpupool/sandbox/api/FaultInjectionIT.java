package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gpupool.sandbox.api.FaultPlan.Fault;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sandbox API server's fault plan, seen by a client as a loaded real API server would treat it:
 * refused writes change nothing, a lost reply's write did happen, throttling names when to retry,
 * and an informer whose watches are closed and expired at random still ends up with every object
 * (it relists).
 */
class FaultInjectionIT {
  private static SandboxApiServer server;
  private static KubernetesClient admin;
  private static KubernetesClient operator;
  private static String token;

  @BeforeAll
  static void start() {
    server = new SandboxApiServer();
    server.start(0);
    admin =
        new KubernetesClientBuilder()
            .withConfig(new ConfigBuilder().withMasterUrl(server.url()).build())
            .build();
    admin
        .rbac()
        .clusterRoleBindings()
        .resource(
            new ClusterRoleBindingBuilder()
                .withNewMetadata()
                .withName("operator-admin")
                .endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "cluster-admin")
                .addNewSubject()
                .withKind("ServiceAccount")
                .withName("operator")
                .withNamespace("default")
                .endSubject()
                .build())
        .create();
    token = server.issueServiceAccountToken("default", "operator");
    operator =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder()
                    .withMasterUrl(server.url())
                    .withOauthToken(token)
                    .withNamespace("default")
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
  }

  @AfterEach
  void noFaults() {
    server.injectFaults(FaultPlan.none());
  }

  @AfterAll
  static void stop() {
    operator.close();
    admin.close();
    server.close();
  }

  private static ConfigMap configMap(String name, String value) {
    return new ConfigMapBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace("default")
        .endMetadata()
        .addToData("v", value)
        .build();
  }

  private static String value(String name) {
    ConfigMap cm = admin.configMaps().inNamespace("default").withName(name).get();
    return cm == null ? null : cm.getData().get("v");
  }

  @Test
  void aConflictRefusesTheUpdateAndWritesNothing() {
    admin.configMaps().resource(configMap("stale", "1")).create();
    server.injectFaults(FaultPlan.parse("conflict=1", 1));
    ConfigMap mine = operator.configMaps().withName("stale").get();
    mine.getData().put("v", "2");
    assertThatThrownBy(() -> operator.configMaps().resource(mine).update())
        .isInstanceOfSatisfying(
            KubernetesClientException.class, e -> assertThat(e.getCode()).isEqualTo(409))
        .hasMessageContaining("the object has been modified");
    assertThat(value("stale")).isEqualTo("1");
    assertThat(server.faults().counts().get(Fault.CONFLICT)).isEqualTo(1);
  }

  @Test
  void throttlingAndServerErrorsAnswerWithTheirStatusAndWriteNothing() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    for (var expected :
        Map.of("throttle", 429, "server-error", 500, "unavailable", 503).entrySet()) {
      server.injectFaults(FaultPlan.parse(expected.getKey() + "=1", 1));
      HttpResponse<String> response =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(server.url() + "/api/v1/namespaces/default/configmaps"))
                  .header("Authorization", "Bearer " + token)
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          io.fabric8.kubernetes.client.utils.Serialization.asJson(
                              configMap("refused-" + expected.getValue(), "x"))))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(expected.getValue());
      assertThat(response.body()).contains("\"kind\":\"Status\"");
      if (expected.getValue() == 429) {
        assertThat(response.headers().firstValue("Retry-After")).contains("1");
      }
      assertThat(value("refused-" + expected.getValue())).isNull();
    }
  }

  @Test
  void aDroppedConnectionWritesNothingAndALostReplyWritesEverything() {
    server.injectFaults(FaultPlan.parse("dropped-connection=1", 1));
    assertThatThrownBy(() -> operator.configMaps().resource(configMap("dropped", "1")).create())
        .isInstanceOf(KubernetesClientException.class);
    assertThat(value("dropped")).isNull();

    server.injectFaults(FaultPlan.parse("lost-reply=1", 1));
    assertThatThrownBy(() -> operator.configMaps().resource(configMap("lost", "1")).create())
        .isInstanceOf(KubernetesClientException.class);
    assertThat(value("lost")).as("the write happened; only its answer was lost").isEqualTo("1");
    assertThat(server.faults().counts().get(Fault.LOST_REPLY)).isEqualTo(1);
  }

  @Test
  void slowAnswersArriveLateButRight() {
    admin.configMaps().resource(configMap("slow", "1")).create();
    server.injectFaults(FaultPlan.parse("slow=1", 1).withMaxDelay(Duration.ofMillis(400)));
    for (int i = 0; i < 5; i++) {
      assertThat(operator.configMaps().withName("slow").get().getData()).containsEntry("v", "1");
    }
    assertThat(server.faults().counts().get(Fault.SLOW)).isEqualTo(5);
  }

  @Test
  void theAdministratorIsNotTouched() {
    server.injectFaults(FaultPlan.parse("server-error=1", 1));
    admin.configMaps().resource(configMap("admin-write", "1")).create();
    assertThat(value("admin-write")).isEqualTo("1");
    assertThat(server.faults().total()).isZero();
  }

  @Test
  void anInformerWhoseWatchesAreClosedAndExpiredStillSeesEveryObject() {
    server.injectFaults(
        FaultPlan.parse("watch-closed=0.5,watch-gone=0.5", 3).withMaxDelay(Duration.ofMillis(200)));
    try (SharedIndexInformer<ConfigMap> informer =
        operator.configMaps().inNamespace("default").withLabel("batch", "informed").inform()) {
      for (int i = 0; i < 30; i++) {
        admin
            .configMaps()
            .resource(
                new ConfigMapBuilder(configMap("informed-" + i, Integer.toString(i)))
                    .editMetadata()
                    .addToLabels("batch", "informed")
                    .endMetadata()
                    .build())
            .create();
        if (i % 10 == 9) {
          sleepMillis(300);
        }
      }
      admin
          .configMaps()
          .inNamespace("default")
          .withName("informed-0")
          .edit(
              c -> {
                c.getData().put("v", "changed");
                return c;
              });
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (System.nanoTime() < deadline && !sawEverything(informer)) {
        sleepMillis(100);
      }
      assertThat(informer.getStore().list()).hasSize(30);
      assertThat(informer.getStore().getByKey("default/informed-0").getData())
          .containsEntry("v", "changed");
      Map<Fault, Long> counts = server.faults().counts();
      assertThat(counts.get(Fault.WATCH_CLOSED) + counts.get(Fault.WATCH_GONE))
          .as("watches were cut: %s", counts)
          .isGreaterThanOrEqualTo(2);
    }
  }

  private static boolean sawEverything(SharedIndexInformer<ConfigMap> informer) {
    ConfigMap first = informer.getStore().getByKey("default/informed-0");
    return informer.getStore().list().size() == 30
        && first != null
        && "changed".equals(first.getData().get("v"));
  }

  private static void sleepMillis(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
