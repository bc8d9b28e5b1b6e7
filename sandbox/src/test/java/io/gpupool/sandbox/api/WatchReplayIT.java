package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A watch from a resourceVersion behaves as kube-apiserver's: the writes after that version are
 * replayed first (deletions included), then the live ones; a version older than the server keeps
 * gets 410 Gone. kubectl's {@code wait --for=delete} lists, then watches from the list's version:
 * without the replay a deletion in between was never seen and the wait hung.
 */
class WatchReplayIT {

  @RegisterExtension static final ApiHttp http = new ApiHttp();

  private static JsonNode send(String method, String path, String contentType, String body)
      throws Exception {
    return http.ok(method, path, contentType, body);
  }

  private static JsonNode createConfigMap(String ns, String name) throws Exception {
    return send(
        "POST",
        "/api/v1/namespaces/" + ns + "/configmaps",
        "application/json",
        "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name + "\"}}");
  }

  private static String listVersion(String ns) throws Exception {
    return send("GET", "/api/v1/namespaces/" + ns + "/configmaps", null, null)
        .path("metadata")
        .path("resourceVersion")
        .asText();
  }

  /** Reads {@code count} events of a chunked HTTP watch (fails after 10 s). */
  private static List<JsonNode> watch(String ns, String query, int count) throws Exception {
    return http.watch("/api/v1/namespaces/" + ns + "/configmaps?watch=true" + query, count)
        .events();
  }

  private static List<String> typeAndName(List<JsonNode> events) {
    return events.stream()
        .map(
            e ->
                e.path("type").asText()
                    + " "
                    + e.path("object").path("metadata").path("name").asText())
        .toList();
  }

  @Test
  void aWatchFromTheListsVersionGetsTheWritesSinceThenDeletionsIncludedThenLiveOnes()
      throws Exception {
    String ns = "replay";
    createConfigMap(ns, "gone");
    createConfigMap(ns, "changed");
    String listed = listVersion(ns);

    // between the client's list and its watch
    JsonNode deleted = send("DELETE", "/api/v1/namespaces/" + ns + "/configmaps/gone", null, null);
    send(
        "PATCH",
        "/api/v1/namespaces/" + ns + "/configmaps/changed",
        "application/merge-patch+json",
        "{\"data\":{\"k\":\"v\"}}");
    createConfigMap(ns, "created");
    long afterWrites = Long.parseLong(listVersion(ns));

    CompletableFuture<List<JsonNode>> events =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return watch(ns, "&resourceVersion=" + listed, 4);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    // a live write after the watch opened comes after the replayed ones; the watch may open
    // before or after it: either way it is sent exactly once
    Thread.sleep(300);
    createConfigMap(ns, "live");
    List<JsonNode> seen = events.get(15, TimeUnit.SECONDS);

    assertThat(typeAndName(seen))
        .containsExactly("DELETED gone", "MODIFIED changed", "ADDED created", "ADDED live");
    long deletion = seen.get(0).path("object").path("metadata").path("resourceVersion").asLong();
    assertThat(deletion)
        .as("a deletion has a version of its own, after the list's and within the next list's")
        .isGreaterThan(Long.parseLong(listed))
        .isGreaterThan(deleted.path("metadata").path("resourceVersion").asLong())
        .isLessThanOrEqualTo(afterWrites);
    assertThat(seen.get(1).path("object").path("data").path("k").asText()).isEqualTo("v");
  }

  @Test
  void aWatchFromVersionZeroStartsWithTheObjectsAsTheyAreNow() throws Exception {
    String ns = "snapshot";
    createConfigMap(ns, "a");
    createConfigMap(ns, "b");
    send("DELETE", "/api/v1/namespaces/" + ns + "/configmaps/a", null, null);

    assertThat(typeAndName(watch(ns, "&resourceVersion=0", 1))).containsExactly("ADDED b");
    assertThat(typeAndName(watch(ns, "", 1))).containsExactly("ADDED b");
  }

  @Test
  void aWatchFromAVersionOlderThanTheServerKeepsIsGoneAndARelistWatchesAgain() throws Exception {
    String ns = "expired";
    createConfigMap(ns, "busy");
    String listed = listVersion(ns);
    int kept = 20;
    http.server().limitWatchHistory(kept);
    for (int i = 0; i <= kept; i++) {
      send(
          "PATCH",
          "/api/v1/namespaces/" + ns + "/configmaps/busy",
          "application/merge-patch+json",
          "{\"data\":{\"n\":\"" + i + "\"}}");
    }

    JsonNode error = watch(ns, "&resourceVersion=" + listed, 1).get(0);
    assertThat(error.path("type").asText()).isEqualTo("ERROR");
    assertThat(error.path("object").path("code").asInt()).isEqualTo(410);
    assertThat(error.path("object").path("reason").asText()).isEqualTo("Expired");
    assertThat(error.path("object").path("message").asText())
        .startsWith("too old resource version: " + listed + " (");

    String relisted = listVersion(ns);
    send("DELETE", "/api/v1/namespaces/" + ns + "/configmaps/busy", null, null);
    assertThat(typeAndName(watch(ns, "&resourceVersion=" + relisted, 1)))
        .containsExactly("DELETED busy");
  }
}
