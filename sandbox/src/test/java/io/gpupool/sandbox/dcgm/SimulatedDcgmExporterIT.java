package io.gpupool.sandbox.dcgm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.Sandbox;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The exporter over HTTP against a running sandbox: a pod bound by hand shows on its GPU. */
class SimulatedDcgmExporterIT {
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  interface Check {
    boolean ok() throws Exception;
  }

  /** Polls {@code check} for up to 20 s. */
  private static void until(Check check) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met in 20 s");
      }
      Thread.sleep(200);
    }
  }

  @Test
  void servesEveryNodesGpusAndFollowsPods() throws Exception {
    try (Sandbox sandbox = Sandbox.builder().start();
        KubernetesClient client = sandbox.newClient();
        SimulatedDcgmExporter exporter = SimulatedDcgmExporter.start(client, 0)) {
      assertThat(exporter.url()).startsWith("http://127.0.0.1:").endsWith("/metrics");
      until(() -> get(exporter.url()).body().contains("Hostname=\"us-east-h100-2\""));
      HttpResponse<String> first = get(exporter.url());
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
      assertThat(get(exporter.url().replace("/metrics", "/other")).statusCode()).isEqualTo(404);

      Pod pod =
          new PodBuilder()
              .withNewMetadata()
              .withName("burn")
              .withNamespace("default")
              .endMetadata()
              .withNewSpec()
              .withNodeName("us-east-h100-1")
              .addNewContainer()
              .withName("cuda")
              .withImage("nvidia/cuda")
              .withNewResources()
              .addToLimits("nvidia.com/gpu", new Quantity("8"))
              .endResources()
              .endContainer()
              .addNewToleration()
              .withKey("nvidia.com/gpu")
              .withOperator("Exists")
              .withEffect("NoSchedule")
              .endToleration()
              .endSpec()
              .build();
      sandbox.client().pods().resource(pod).create();
      until(
          () ->
              get(exporter.url())
                      .body()
                      .lines()
                      .filter(
                          l ->
                              l.startsWith("DCGM_FI_DEV_GPU_UTIL{")
                                  && l.contains("Hostname=\"us-east-h100-1\"")
                                  && l.contains("pod=\"burn\""))
                      .count()
                  == 8);
      sandbox.client().pods().inNamespace("default").withName("burn").delete();
      until(() -> !get(exporter.url()).body().contains("pod=\"burn\""));
    }
  }
}
