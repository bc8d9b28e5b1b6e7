package io.gpupool.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference weights fetcher (examples/workloads/fetch_weights.py) keeps the fetch contract: a
 * first run pulls and says Miss, a second finds the complete copy and says Hit, an unknown scheme
 * fails the container.
 */
class FetchWeightsScriptTest {
  private static final Path SCRIPT =
      SandboxCluster.REPO.resolve("examples/workloads/fetch_weights.py");

  @TempDir Path tmp;

  private record Run(int exit, String message) {}

  private Run fetch(String uri, Path dir) throws Exception {
    Path log = tmp.resolve("termination-log");
    Files.deleteIfExists(log);
    ProcessBuilder pb =
        new ProcessBuilder("python3", SCRIPT.toString(), "--termination-log", log.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("out.txt").toFile());
    pb.environment()
        .putAll(Map.of("GPUPOOL_WEIGHTS_URI", uri, "GPUPOOL_WEIGHTS_DIR", dir.toString()));
    int exit = pb.start().waitFor();
    return new Run(exit, Files.exists(log) ? Files.readString(log) : null);
  }

  @Test
  void aDirectoryIsCopiedOnceThenFound() throws Exception {
    Path source = Files.createDirectories(tmp.resolve("model"));
    Files.writeString(source.resolve("model.safetensors"), "weights");
    Files.writeString(source.resolve("config.json"), "{}");
    Path cache = tmp.resolve("cache");
    String uri = source.toUri().toString();
    assertThat(fetch(uri, cache)).isEqualTo(new Run(0, "Miss"));
    assertThat(Files.readString(cache.resolve("model.safetensors"))).isEqualTo("weights");
    assertThat(fetch(uri, cache)).isEqualTo(new Run(0, "Hit"));
    try (var files = Files.list(cache)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .as("no partial download left behind")
          .containsExactlyInAnyOrder("model.safetensors", "config.json", ".gpupool-complete");
    }
  }

  @Test
  void anHttpFileIsDownloadedAndAnUnknownSchemeFailsTheContainer() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    byte[] body = "served weights".getBytes(StandardCharsets.UTF_8);
    server.createContext(
        "/m/model.bin",
        ex -> {
          ex.sendResponseHeaders(200, body.length);
          ex.getResponseBody().write(body);
          ex.close();
        });
    server.start();
    try {
      Path cache = tmp.resolve("http-cache");
      String uri = "http://127.0.0.1:" + server.getAddress().getPort() + "/m/model.bin";
      assertThat(fetch(uri, cache)).isEqualTo(new Run(0, "Miss"));
      assertThat(Files.readString(cache.resolve("model.bin"))).isEqualTo("served weights");
    } finally {
      server.stop(0);
    }
    Run s3 = fetch("s3://bucket/model/", tmp.resolve("s3-cache"));
    assertThat(s3.exit()).isNotZero();
    assertThat(s3.message()).isNull();
  }

  static {
    try {
      if (new ProcessBuilder("python3", "--version").start().waitFor() != 0) {
        throw new AssertionError("python3 is needed (Debian: apt-get install python3)");
      }
    } catch (IOException | InterruptedException e) {
      throw new AssertionError("python3 is needed (Debian: apt-get install python3)", e);
    }
  }
}
