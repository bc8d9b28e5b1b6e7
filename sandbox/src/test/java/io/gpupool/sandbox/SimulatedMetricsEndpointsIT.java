package io.gpupool.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gpupool.sandbox.pool.PoolFile;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A simulated serving pod reports the in-flight requests set on it over HTTP at its pod IP and
 * container port, like a real model server, and stops answering when it is gone.
 */
class SimulatedMetricsEndpointsIT {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static Sandbox sandbox;
  private static KubernetesClient client;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @BeforeAll
  static void start() {
    sandbox =
        Sandbox.builder()
            .pool(
                PoolFile.parse(
                    """
                    providers:
                      - name: p1
                        payoutAddress: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                        prices: {NVIDIA-GeForce-RTX-4090: "0.40"}
                    nodeGroups:
                      - namePrefix: serve
                        count: 1
                        provider: p1
                        region: eu-west
                        zone: eu-west-1a
                        gpu: {product: NVIDIA-GeForce-RTX-4090, count: 2, memoryMiB: 24564,
                              family: ada-lovelace, computeMajor: 8, computeMinor: 9}
                    """))
            .start();
    client = sandbox.client();
  }

  @AfterAll
  static void stop() {
    if (sandbox != null) {
      sandbox.close();
    }
  }

  private static Pod create(String name, String initialLoad) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace("default")
            .endMetadata()
            .withNewSpec()
            .withNodeName("serve-1")
            .addNewToleration()
            .withKey("nvidia.com/gpu")
            .withOperator("Exists")
            .withEffect("NoSchedule")
            .endToleration()
            .addNewContainer()
            .withName("server")
            .withImage("serve:1")
            .addNewPort()
            .withContainerPort(8000)
            .endPort()
            .endContainer()
            .endSpec();
    if (initialLoad != null) {
      b.editSpec()
          .editFirstContainer()
          .addNewEnv()
          .withName("SANDBOX_INFLIGHT_REQUESTS")
          .withValue(initialLoad)
          .endEnv()
          .endContainer()
          .endSpec();
    }
    client.resource(b.build()).create();
    return eventually(
        () -> client.pods().inNamespace("default").withName(name).get(),
        p -> p != null && p.getStatus() != null && "Running".equals(p.getStatus().getPhase()),
        "pod " + name + " Running");
  }

  private static HttpResponse<String> scrape(Pod pod) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create("http://" + pod.getStatus().getPodIP() + ":8000/metrics"))
            .timeout(Duration.ofSeconds(2))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static <T> T eventually(
      java.util.function.Supplier<T> get, java.util.function.Predicate<T> ok, String what) {
    return Eventually.eventually(WAIT, get, ok, what);
  }

  @Test
  void servesTheLoadSetOnThePodUntilThePodIsGone() throws Exception {
    Pod one = create("server-a", "3");
    Pod two = create("server-b", "0");
    assertThat(one.getStatus().getPodIP()).startsWith("127.77.");
    assertThat(two.getStatus().getPodIP())
        .startsWith("127.77.")
        .isNotEqualTo(one.getStatus().getPodIP());

    HttpResponse<String> first = scrape(one);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4");
    assertThat(first.body()).contains("# TYPE gpupool_inflight_requests gauge\n");
    assertThat(first.body()).contains("\ngpupool_inflight_requests 3.0\n");
    assertThat(scrape(two).body()).contains("\ngpupool_inflight_requests 0.0\n");

    client
        .pods()
        .inNamespace("default")
        .withName("server-a")
        .edit(
            p -> {
              p.getMetadata().getAnnotations().put("sandbox.gpupool.io/inflight-requests", "42");
              return p;
            });
    assertThat(scrape(one).body()).contains("\ngpupool_inflight_requests 42.0\n");
    assertThat(scrape(two).body()).contains("\ngpupool_inflight_requests 0.0\n");

    client.pods().inNamespace("default").withName("server-a").delete();
    eventually(
        () -> {
          try {
            return scrape(one).statusCode();
          } catch (IOException gone) {
            return -1;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
          }
        },
        code -> code == -1,
        "server-a's endpoint closed");
    assertThat(scrape(two).statusCode()).isEqualTo(200);
  }

  @Test
  void podsThatDoNotAskKeepAnOrdinaryPodIp() {
    Pod plain = create("plain", null);
    assertThat(plain.getStatus().getPodIP()).startsWith("10.244.");
  }
}
