package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sandbox store finds an object through its index: a request that names one object tests a
 * handful of stored objects however many are stored (the mock dispatcher alone tested every one),
 * and still answers exactly as before: not found, conflicts, finalizers, garbage collection,
 * namespaced lists. In-process, no HTTP.
 */
class StoreIndexTest {

  private static final int NODES = 500;
  private static final String JSON = Reply.JSON;

  private SandboxApiServer server;

  @BeforeEach
  void seedALargePool() {
    server = new SandboxApiServer();
    List<Node> nodes = new ArrayList<>();
    List<Lease> leases = new ArrayList<>();
    for (int i = 0; i < NODES; i++) {
      nodes.add(new NodeBuilder().withNewMetadata().withName("node-" + i).endMetadata().build());
      leases.add(
          new LeaseBuilder()
              .withNewMetadata()
              .withName("node-" + i)
              .withNamespace("kube-node-lease")
              .endMetadata()
              .build());
    }
    server.seed(nodes);
    server.seed(leases);
    for (String ns : List.of("team-a", "team-b")) {
      assertThat(call("POST", "/api/v1/namespaces", namespace(ns)).code()).isEqualTo(201);
    }
  }

  @Test
  void aRequestNamingOneObjectTestsOnlyObjectsOfThatNameAmongThousands() {
    long before = server.objectsTested();
    Reply got = call("GET", "/api/v1/nodes/node-" + (NODES - 7), null);
    assertThat(got.code()).isEqualTo(200);
    assertThat(Json.parse(got.body()).path("metadata").path("name").asText())
        .isEqualTo("node-" + (NODES - 7));
    assertThat(server.objectsTested() - before).isLessThanOrEqualTo(2);

    before = server.objectsTested();
    Reply created = call("POST", "/api/v1/namespaces/team-a/configmaps", configMap("cm", null));
    assertThat(created.code()).isEqualTo(201);
    JsonNode cm = Json.parse(created.body());
    ((ObjectNode) cm).putObject("data").put("k", "v");
    Reply updated = call("PUT", "/api/v1/namespaces/team-a/configmaps/cm", Json.write(cm));
    assertThat(updated.code()).isEqualTo(200);
    assertThat(call("DELETE", "/api/v1/namespaces/team-a/configmaps/cm", null).code())
        .isEqualTo(200);
    // create (existence check, store), update (read, store), delete (read, remove, GC look-up)
    assertThat(server.objectsTested() - before).isLessThanOrEqualTo(12);
  }

  @Test
  void answersAsTheDispatcherDid() {
    assertThat(call("GET", "/api/v1/nodes/no-such-node", null).code()).isEqualTo(404);
    assertThat(call("GET", "/api/v1/namespaces/team-a/configmaps/none", null).code())
        .isEqualTo(404);
    assertThat(call("POST", "/api/v1/namespaces/team-a/configmaps", configMap("cm", null)).code())
        .isEqualTo(201);
    assertThat(call("POST", "/api/v1/namespaces/team-a/configmaps", configMap("cm", null)).code())
        .as("a second create of the same name")
        .isEqualTo(409);
    assertThat(call("POST", "/api/v1/namespaces/team-b/configmaps", configMap("cm", null)).code())
        .as("the same name in another namespace")
        .isEqualTo(201);

    JsonNode stale =
        Json.parse(call("GET", "/api/v1/namespaces/team-a/configmaps/cm", null).body());
    ObjectNode changed = stale.deepCopy();
    changed.putObject("data").put("k", "first");
    assertThat(call("PUT", "/api/v1/namespaces/team-a/configmaps/cm", Json.write(changed)).code())
        .isEqualTo(200);
    ((ObjectNode) stale).putObject("data").put("k", "second");
    assertThat(call("PUT", "/api/v1/namespaces/team-a/configmaps/cm", Json.write(stale)).code())
        .as("an update from a stale resourceVersion")
        .isEqualTo(409);

    Reply list = call("GET", "/api/v1/namespaces/team-b/configmaps", null);
    assertThat(names(list)).containsExactly("cm");
    assertThat(Json.parse(list.body()).path("metadata").path("resourceVersion").asLong())
        .isPositive();
    assertThat(names(call("GET", "/api/v1/configmaps", null))).containsExactly("cm", "cm");
    assertThat(names(call("GET", "/apis/coordination.k8s.io/v1/leases", null))).hasSize(NODES);
  }

  @Test
  void aFinalizerHoldsTheObjectUntilItIsRemoved() {
    String withFinalizer =
        """
        {"apiVersion":"v1","kind":"ConfigMap",
         "metadata":{"name":"held","finalizers":["example.io/hold"]}}""";
    assertThat(call("POST", "/api/v1/namespaces/team-a/configmaps", withFinalizer).code())
        .isEqualTo(201);
    assertThat(call("DELETE", "/api/v1/namespaces/team-a/configmaps/held", null).code())
        .isEqualTo(200);
    JsonNode marked =
        Json.parse(call("GET", "/api/v1/namespaces/team-a/configmaps/held", null).body());
    assertThat(marked.path("metadata").path("deletionTimestamp").asText()).isNotEmpty();

    ((ObjectNode) marked.path("metadata")).putArray("finalizers");
    assertThat(call("PUT", "/api/v1/namespaces/team-a/configmaps/held", Json.write(marked)).code())
        .isEqualTo(200);
    assertThat(call("GET", "/api/v1/namespaces/team-a/configmaps/held", null).code())
        .isEqualTo(404);
    assertThat(call("POST", "/api/v1/namespaces/team-a/configmaps", configMap("held", null)).code())
        .as("the name is free again")
        .isEqualTo(201);
  }

  @Test
  void deletingAnOwnerDeletesWhatItOwnsFoundByOwnerNotByScan() {
    JsonNode owner =
        Json.parse(
            call("POST", "/api/v1/namespaces/team-a/configmaps", configMap("owner", null)).body());
    String uid = owner.path("metadata").path("uid").asText();
    for (int i = 0; i < 3; i++) {
      assertThat(
              call("POST", "/api/v1/namespaces/team-a/configmaps", configMap("dep-" + i, uid))
                  .code())
          .isEqualTo(201);
    }
    assertThat(call("POST", "/api/v1/namespaces/team-a/configmaps", configMap("free", null)).code())
        .isEqualTo(201);

    long before = server.objectsTested();
    assertThat(call("DELETE", "/api/v1/namespaces/team-a/configmaps/owner", null).code())
        .isEqualTo(200);
    assertThat(names(call("GET", "/api/v1/namespaces/team-a/configmaps", null)))
        .containsExactly("free");
    assertThat(server.objectsTested() - before).isLessThan(100);
  }

  private Reply call(String method, String uri, String body) {
    return server.handle(new ApiRequest(method, uri, JSON, JSON, body == null ? "" : body));
  }

  private static List<String> names(Reply list) {
    assertThat(list.code()).isEqualTo(200);
    List<String> names = new ArrayList<>();
    Json.parse(list.body())
        .path("items")
        .forEach(i -> names.add(i.path("metadata").path("name").asText()));
    return names;
  }

  private static String namespace(String name) {
    return "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\""
        + name
        + "\"}}";
  }

  private static String configMap(String name, String ownerUid) {
    String owners =
        ownerUid == null
            ? ""
            : ",\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                + "\"name\":\"owner\",\"uid\":\""
                + ownerUid
                + "\"}]";
    return "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\""
        + name
        + "\""
        + owners
        + "}}";
  }
}
