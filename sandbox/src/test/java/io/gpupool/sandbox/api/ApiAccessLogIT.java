package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A client's requests land in the access log under its user agent, in RBAC terms. */
class ApiAccessLogIT {
  @Test
  void recordsWhatEachUserAgentDid() throws Exception {
    try (SandboxApiServer server = new SandboxApiServer()) {
      server.start(0);
      try (KubernetesClient client =
          new KubernetesClientBuilder()
              .withConfig(
                  new ConfigBuilder()
                      .withMasterUrl(server.url())
                      .withUserAgent("probe/1.0")
                      .withNamespace("default")
                      .build())
              .build()) {
        client
            .configMaps()
            .inNamespace("ops")
            .resource(
                new ConfigMapBuilder()
                    .withNewMetadata()
                    .withName("c")
                    .endMetadata()
                    .withData(Map.of("a", "1"))
                    .build())
            .create();
        client
            .configMaps()
            .inNamespace("ops")
            .withName("c")
            .edit(
                cm -> {
                  cm.getData().put("b", "2");
                  return cm;
                });
        SharedIndexInformer<Pod> pods = client.pods().inAnyNamespace().inform();
        pods.close();
      }
      ApiAccessLog log = server.accessLog();
      assertThat(log.calls("probe/"))
          .contains(
              new ApiCall("probe/1.0", "", "configmaps", "create", "ops", null),
              new ApiCall("probe/1.0", "", "configmaps", "get", "ops", "c"),
              new ApiCall("probe/1.0", "", "pods", "list", null, null),
              new ApiCall("probe/1.0", "", "pods", "watch", null, null));
      assertThat(log.calls("probe/"))
          .anyMatch(c -> c.resource().equals("configmaps") && c.verb().matches("patch|update"));
      assertThat(log.calls("other")).isEmpty();
      assertThat(log.dropped()).isZero();
    }
  }
}
