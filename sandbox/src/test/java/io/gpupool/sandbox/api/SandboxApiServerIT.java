package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The API server's HTTP contract, without kubectl. */
class SandboxApiServerIT {

  private static SandboxApiServer server;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() {
    server = new SandboxApiServer();
    server.start(0);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static HttpResponse<String> send(
      String method, String path, String contentType, String body) throws Exception {
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

  private static JsonNode json(HttpResponse<String> r) {
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    return Json.parse(r.body());
  }

  @Test
  void versionAndDiscovery() throws Exception {
    assertThat(json(send("GET", "/version", null, null)).path("minor").asText()).isEqualTo("32");
    JsonNode core = json(send("GET", "/api/v1", null, null));
    assertThat(core.path("kind").asText()).isEqualTo("APIResourceList");
    assertThat(core.path("resources").toString())
        .contains("\"name\":\"pods\"", "\"name\":\"pods/status\"", "\"shortNames\":[\"po\"]");
    JsonNode groups = json(send("GET", "/apis", null, null));
    assertThat(groups.path("groups").toString())
        .contains(
            "\"name\":\"apps\"", "\"name\":\"coordination.k8s.io\"", "\"name\":\"events.k8s.io\"");
    assertThat(send("GET", "/apis/nope.io/v1", null, null).statusCode()).isEqualTo(404);
    JsonNode openapi = json(send("GET", "/openapi/v3", null, null));
    assertThat(openapi.path("paths").path("apis/apps/v1").path("serverRelativeURL").asText())
        .startsWith("/openapi/v3/apis/apps/v1?hash=");
  }

  @Test
  void errorsAreStatusObjects() throws Exception {
    HttpResponse<String> missing = send("GET", "/api/v1/namespaces/default/pods/ghost", null, null);
    assertThat(missing.statusCode()).isEqualTo(404);
    JsonNode status = json(missing);
    assertThat(status.path("kind").asText()).isEqualTo("Status");
    assertThat(status.path("reason").asText()).isEqualTo("NotFound");
    assertThat(status.path("message").asText()).isEqualTo("pods \"ghost\" not found");

    String cm = "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dup\"}}";
    assertThat(
            send("POST", "/api/v1/namespaces/default/configmaps", "application/json", cm)
                .statusCode())
        .isEqualTo(201);
    HttpResponse<String> again =
        send("POST", "/api/v1/namespaces/default/configmaps", "application/json", cm);
    assertThat(again.statusCode()).isEqualTo(409);
    assertThat(json(again).path("reason").asText()).isEqualTo("AlreadyExists");
    assertThat(send("POST", "/api/v1/configmaps", "application/json", cm).statusCode())
        .isEqualTo(405);
    assertThat(
            send(
                    "POST",
                    "/apis/apps/v1/namespaces/default/deployments",
                    "application/vnd.kubernetes.protobuf",
                    "k8s\u0000junk")
                .statusCode())
        .isEqualTo(415);

    HttpResponse<String> stale =
        send(
            "PUT",
            "/api/v1/namespaces/default/configmaps/dup",
            "application/json",
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"dup\","
                + "\"resourceVersion\":\"1\"},\"data\":{\"a\":\"b\"}}");
    assertThat(stale.statusCode()).isEqualTo(409);
    assertThat(json(stale).path("reason").asText()).isEqualTo("Conflict");
  }

  @Test
  void httpWatchStreamsOnlyEventsNewerThanTheRequestedResourceVersion() throws Exception {
    String before =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"old\"}}";
    send("POST", "/api/v1/namespaces/default/configmaps", "application/json", before);
    String listRv =
        json(send("GET", "/api/v1/namespaces/default/configmaps", null, null))
            .path("metadata")
            .path("resourceVersion")
            .asText();

    HttpRequest watch =
        HttpRequest.newBuilder(
                URI.create(
                    server.url()
                        + "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="
                        + listRv
                        + "&labelSelector=team%3Dml"))
            .build();
    HttpResponse<java.io.InputStream> stream =
        HTTP.send(watch, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(stream.statusCode()).isEqualTo(200);
    List<JsonNode> events = new ArrayList<>();
    CompletableFuture<Void> reader =
        CompletableFuture.runAsync(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                String line;
                while (events.size() < 3 && (line = r.readLine()) != null) {
                  synchronized (events) {
                    events.add(Json.parse(line));
                  }
                }
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    send(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"other\"}}");
    send(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"new\","
            + "\"labels\":{\"team\":\"ml\"}}}");
    send(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/new",
        "application/merge-patch+json",
        "{\"data\":{\"k\":\"v\"}}");
    send("DELETE", "/api/v1/namespaces/default/configmaps/new", null, null);
    reader.get(10, TimeUnit.SECONDS);

    assertThat(events)
        .extracting(e -> e.path("type").asText() + " " + e.at("/object/metadata/name").asText())
        .containsExactly("ADDED new", "MODIFIED new", "DELETED new");
    assertThat(events.get(1).at("/object/data/k").asText()).isEqualTo("v");
  }

  @Test
  void finalizersDelayDeletionAndGarbageCollection() throws Exception {
    String owner =
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"fin-owner\","
            + "\"finalizers\":[\"gpupool.io/cleanup\"]}}";
    String uid =
        json(send("POST", "/api/v1/namespaces/default/configmaps", "application/json", owner))
            .at("/metadata/uid")
            .asText();
    send(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        "application/json",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"fin-dep\","
            + "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
            + "\"name\":\"fin-owner\",\"uid\":\""
            + uid
            + "\"}]}}");

    assertThat(
            send("DELETE", "/api/v1/namespaces/default/configmaps/fin-owner", null, null)
                .statusCode())
        .isEqualTo(200);
    JsonNode marked =
        json(send("GET", "/api/v1/namespaces/default/configmaps/fin-owner", null, null));
    assertThat(marked.at("/metadata/deletionTimestamp").isMissingNode()).isFalse();
    assertThat(
            send("GET", "/api/v1/namespaces/default/configmaps/fin-dep", null, null).statusCode())
        .as("dependent kept while the owner waits for its finalizer")
        .isEqualTo(200);

    HttpResponse<String> released =
        send(
            "PATCH",
            "/api/v1/namespaces/default/configmaps/fin-owner",
            "application/merge-patch+json",
            "{\"metadata\":{\"finalizers\":null}}");
    assertThat(released.statusCode()).isEqualTo(200);
    assertThat(json(released).at("/metadata/name").asText()).isEqualTo("fin-owner");
    assertThat(
            send("GET", "/api/v1/namespaces/default/configmaps/fin-owner", null, null).statusCode())
        .isEqualTo(404);
    assertThat(
            send("GET", "/api/v1/namespaces/default/configmaps/fin-dep", null, null).statusCode())
        .as("dependent collected once the owner is gone")
        .isEqualTo(404);
  }
}
