package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A sandbox API server of a test class's own (started before its tests, closed after them), spoken
 * to over plain HTTP as a client without kubectl or Fabric8 would: requests with a body and content
 * type, and chunked watches read line by line. Registered with {@code @RegisterExtension}.
 */
final class ApiHttp implements BeforeAllCallback, AfterAllCallback {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private SandboxApiServer server;

  @Override
  public void beforeAll(ExtensionContext context) {
    server = new SandboxApiServer();
    server.start(0);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    server.close();
  }

  SandboxApiServer server() {
    return server;
  }

  /** One request; {@code contentType} and {@code body} may be null. */
  HttpResponse<String> send(String method, String path, String contentType, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(server.url() + path)).timeout(Duration.ofSeconds(10));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** One request that must succeed (2xx); its body as JSON. */
  JsonNode ok(String method, String path, String contentType, String body) throws Exception {
    HttpResponse<String> r = send(method, path, contentType, body);
    assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isLessThan(300);
    return Json.parse(r.body());
  }

  /**
   * Opens a chunked watch ({@code path} carries {@code watch=true}) and reads its first {@code
   * count} events in the background; the request itself must be answered 200.
   */
  Watch watch(String path, int count) throws Exception {
    HttpResponse<InputStream> stream =
        HTTP.send(
            HttpRequest.newBuilder(URI.create(server.url() + path)).build(),
            HttpResponse.BodyHandlers.ofInputStream());
    assertThat(stream.statusCode()).as("GET %s", path).isEqualTo(200);
    List<JsonNode> events = new ArrayList<>();
    CompletableFuture<Void> reader =
        CompletableFuture.runAsync(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while (events.size() < count && (line = r.readLine()) != null) {
                  synchronized (events) {
                    events.add(Json.parse(line));
                  }
                }
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            });
    return new Watch(events, reader);
  }

  /** A watch being read. */
  static final class Watch {
    private final List<JsonNode> events;
    private final CompletableFuture<Void> reader;

    private Watch(List<JsonNode> events, CompletableFuture<Void> reader) {
      this.events = events;
      this.reader = reader;
    }

    /** The events read, once all were read or the stream ended (fails after 10 s). */
    List<JsonNode> events() throws Exception {
      reader.get(10, TimeUnit.SECONDS);
      synchronized (events) {
        return List.copyOf(events);
      }
    }
  }
}
