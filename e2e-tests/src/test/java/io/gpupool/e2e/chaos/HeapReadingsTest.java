package io.gpupool.e2e.chaos;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HeapReadingsTest {
  private static final Instant T0 = Instant.parse("2026-12-06T23:00:00Z");
  private final CountDownLatch release = new CountDownLatch(1);
  private HttpServer hanging;
  private HttpServer answering;

  @AfterEach
  void stop() {
    release.countDown();
    if (hanging != null) {
      hanging.stop(0);
    }
    if (answering != null) {
      answering.stop(0);
    }
  }

  @Test
  void anOldestReplicaThatDoesNotAnswerLeavesTheReadingToTheNext() throws Exception {
    hanging = server(exchange -> awaitRelease());
    AtomicReference<String> metrics = new AtomicReference<>(liveData(40));
    answering =
        server(
            exchange -> {
              byte[] body = metrics.get().getBytes(StandardCharsets.UTF_8);
              exchange.sendResponseHeaders(200, body.length);
              try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
              }
            });
    HeapReadings readings = new HeapReadings();
    List<HeapReadings.Replica> live =
        List.of(
            new HeapReadings.Replica(
                "replica-2", answering.getAddress().getPort(), T0.plusSeconds(60)),
            new HeapReadings.Replica("replica-1", hanging.getAddress().getPort(), T0));

    assertThat(readings.read(live, Duration.ofMillis(300), T0.plusSeconds(120)))
        .contains("40 MiB → 40 MiB (replica-2, up 1 min; live data after the last major GC)");
    metrics.set(liveData(44));
    assertThat(readings.read(live, Duration.ofMillis(300), T0.plusSeconds(300)))
        .as("a later reading keeps that replica's first figure as its start")
        .contains("40 MiB → 44 MiB (replica-2, up 4 min; live data after the last major GC)");
  }

  @Test
  void whenNoReplicaAnswersTheReadingSaysWhyForEach() throws Exception {
    hanging = server(exchange -> awaitRelease());
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort(); // nothing listens there once closed
    }
    HeapReadings readings = new HeapReadings();

    assertThat(
            readings.read(
                List.of(
                    new HeapReadings.Replica("replica-1", hanging.getAddress().getPort(), T0),
                    new HeapReadings.Replica("replica-2", closed, T0.plusSeconds(1))),
                Duration.ofMillis(300),
                T0.plusSeconds(60)))
        .isEmpty();
    assertThat(readings.whyNot())
        .contains("replica-1: java.net.SocketTimeoutException")
        .contains("replica-2: java.net.ConnectException");
    assertThat(readings.read(List.of(), Duration.ofMillis(300), T0)).isEmpty();
    assertThat(readings.whyNot()).isEqualTo("no replica alive");
  }

  @Test
  void anErrorPageOrMetricsWithoutTheHeapAreNoReading() throws Exception {
    answering =
        server(
            exchange -> {
              byte[] body = "# no jvm metrics here\n".getBytes(StandardCharsets.UTF_8);
              exchange.sendResponseHeaders(500, body.length);
              try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
              }
            });
    HeapReadings readings = new HeapReadings();

    assertThat(
            readings.read(
                List.of(new HeapReadings.Replica("r", answering.getAddress().getPort(), T0)),
                Duration.ofSeconds(5),
                T0))
        .isEmpty();
    assertThat(readings.whyNot()).contains("HTTP 500");
    assertThat(HeapReadings.parse("# nothing\n")).isEmpty();
    assertThat(
            HeapReadings.parse(
                "jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"} 1048576.0\n"
                    + "jvm_memory_used_bytes{area=\"heap\",id=\"G1 Old Gen\"} 2097152.0\n"
                    + "jvm_memory_used_bytes{area=\"nonheap\",id=\"Metaspace\"} 9.9E7\n"))
        .as("the heap in use when no major GC ran yet")
        .hasValue(3 * 1048576.0);
  }

  private void awaitRelease() {
    try {
      release.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String liveData(int mib) {
    return "# TYPE jvm_gc_live_data_size_bytes gauge\njvm_gc_live_data_size_bytes "
        + (mib * 1048576.0)
        + "\n";
  }

  /** A metrics endpoint on a free loopback port whose handler is {@code handler}. */
  private static HttpServer server(Handler handler) throws IOException {
    HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext(
        "/q/metrics",
        exchange -> {
          handler.handle(exchange);
          exchange.close();
        });
    s.setExecutor(
        java.util.concurrent.Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "heap-readings-test");
              t.setDaemon(true);
              return t;
            }));
    s.start();
    return s;
  }

  @FunctionalInterface
  private interface Handler {
    void handle(com.sun.net.httpserver.HttpExchange exchange) throws IOException;
  }
}
