package io.gpupool.operator.inference;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scrape against a real HTTP server on the loopback interface. */
class InferenceHttpLoadSignalTest {
  private HttpServer server;
  private final AtomicReference<String> body = new AtomicReference<>("");
  private final AtomicInteger code = new AtomicInteger(200);
  private final AtomicReference<String> path = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          path.set(exchange.getRequestURI().getPath());
          byte[] b = body.get().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(code.get(), b.length);
          exchange.getResponseBody().write(b);
          exchange.close();
        });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private static Pod leader(String ip) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("l")
        .endMetadata()
        .withNewStatus()
        .withPodIP(ip)
        .endStatus()
        .build();
  }

  private int port() {
    return server.getAddress().getPort();
  }

  @Test
  void scrapesTheGaugeFromTheLeadersMetricsPath() {
    body.set("# TYPE gpupool_inflight_requests gauge\ngpupool_inflight_requests 17\n");
    var v = new HttpLoadSignal().inFlight(leader("127.0.0.1"), port(), "/stats");
    assertThat(v).hasValue(17.0);
    assertThat(path.get()).isEqualTo("/stats");
  }

  @Test
  void nothingWhenTheServerFailsOrHasNoGauge() {
    body.set("other_metric 3\n");
    assertThat(new HttpLoadSignal().inFlight(leader("127.0.0.1"), port(), "/metrics")).isEmpty();
    code.set(503);
    body.set("gpupool_inflight_requests 3\n");
    assertThat(new HttpLoadSignal().inFlight(leader("127.0.0.1"), port(), "/metrics")).isEmpty();
  }

  @Test
  void nothingWithoutAPodIpOrWhenUnreachable() {
    assertThat(new HttpLoadSignal().inFlight(leader(null), port(), "/metrics")).isEmpty();
    int closed = port();
    server.stop(0);
    assertThat(new HttpLoadSignal().inFlight(leader("127.0.0.1"), closed, "/metrics")).isEmpty();
  }
}
