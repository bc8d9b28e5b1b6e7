package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The API server's HTTP contract, without kubectl. */
class SandboxApiServerIT {

  @RegisterExtension static final ApiHttp http = new ApiHttp();

  private static HttpResponse<String> send(
      String method, String path, String contentType, String body) throws Exception {
    return http.send(method, path, contentType, body);
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

    ApiHttp.Watch watch =
        http.watch(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion="
                + listRv
                + "&labelSelector=team%3Dml",
            3);
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
    List<JsonNode> events = watch.events();

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
