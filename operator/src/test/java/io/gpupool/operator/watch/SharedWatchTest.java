package io.gpupool.operator.watch;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A shared watch survives a failed first list. Found by the chaos soak on the pod watch: a replica
 * whose first LIST of pods met a dropped connection never saw a pod, so it never placed a job while
 * it led. Every kind's watch is made the same way now.
 */
class SharedWatchTest {
  private static final String EMPTY =
      "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"7\"},"
          + "\"items\":[]}";
  private final AtomicInteger requests = new AtomicInteger();
  private HttpServer server;
  private KubernetesClient client;

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
    server.createContext(
        "/",
        ex -> {
          try (ex) {
            // the first request (the informer's first list) fails as under an API-server fault
            boolean fail = requests.incrementAndGet() == 1;
            byte[] body =
                (fail ? "{\"kind\":\"Status\",\"code\":500}" : EMPTY)
                    .getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(fail ? 500 : 200, body.length);
            ex.getResponseBody().write(body);
          }
        });
    server.start();
    client =
        new KubernetesClientBuilder()
            .withConfig(
                new ConfigBuilder()
                    .withMasterUrl("http://127.0.0.1:" + server.getAddress().getPort())
                    .withRequestRetryBackoffLimit(0)
                    .build())
            .build();
  }

  @AfterEach
  void stop() {
    client.close();
    server.stop(0);
  }

  @Test
  void theWatchListsAgainAfterItsFirstListFailed() {
    SharedWatch<Pod> pods = new ClusterWatches(client).pods();
    pods.startAndWait(Duration.ofSeconds(20));
    assertThat(pods.synced()).isTrue();
    assertThat(requests.get()).isGreaterThan(1);
    assertThat(pods.list()).isEmpty();
  }

  @Test
  void aWatchIsReportedNotWatchingOnceStartedAndUntilItWatches() {
    // nothing listens on port 1: the first list never arrives, so the watch never starts
    try (KubernetesClient unreachable =
            new KubernetesClientBuilder()
                .withConfig(
                    new ConfigBuilder()
                        .withMasterUrl("http://127.0.0.1:1")
                        .withRequestRetryBackoffLimit(0)
                        .build())
                .build();
        ClusterWatches watches = new ClusterWatches(unreachable)) {
      SharedWatch<Pod> pods = watches.pods();
      // a kind no reader asked for yet is no stalled watch
      assertThat(watches.notWatching()).isEmpty();
      pods.start();
      assertThat(watches.notWatching()).containsExactly("watch/pods");
    }
  }

  @Test
  void onlyAnObjectThatCannotBeReadStopsIt() {
    assertThat(SharedWatch.retryAfter("pods", false, new IOException("connection closed")))
        .isTrue();
    assertThat(SharedWatch.retryAfter("pods", true, new IOException("connection closed"))).isTrue();
  }
}
