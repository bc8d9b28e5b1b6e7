package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocketListener;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The objects the sandbox API server keeps: the Fabric8 mock's CRUD dispatcher, indexed ({@link
 * IndexedCrudDispatcher}), read and written by path, with the stored CRDs mirrored into the
 * resource registry.
 */
final class ObjectStore {

  private final IndexedCrudDispatcher crud = new IndexedCrudDispatcher();
  private final ResourceRegistry registry;

  ObjectStore(ResourceRegistry registry) {
    this.registry = registry;
  }

  /** The object at {@code itemPath}, or null. */
  JsonNode fetch(String itemPath) {
    List<String> found = crud.find(itemPath);
    if (found.isEmpty()) {
      return null;
    }
    JsonNode first = Json.parse(found.get(0));
    if (found.size() == 1) {
      return first;
    }
    // One name in two API groups with the same plural (core and events.k8s.io Events): the
    // dispatcher's path attributes do not tell the core group apart, the path does.
    ResourcePath p = ResourcePath.parse(itemPath);
    String group = p == null ? "" : p.group;
    for (String json : found) {
      JsonNode node = Json.parse(json);
      if (WatchStream.groupOf(node.path("apiVersion").asText()).equals(group)) {
        return node;
      }
    }
    return first;
  }

  /**
   * Lists the objects of {@code type} under {@code collectionPath}, sorted; returns the list RV.
   */
  String listInto(
      String collectionPath, ResourceType type, Selectors selectors, List<JsonNode> items) {
    String resourceVersion = crud.resourceVersion();
    for (String json : crud.find(collectionPath)) {
      JsonNode item = Json.parse(json);
      if (WatchStream.groupOf(item.path("apiVersion").asText()).equals(type.group())
          && item.path("kind").asText().equals(type.kind())
          && selectors.matches(item)) {
        items.add(item);
      }
    }
    items.sort(
        Comparator.comparing((JsonNode o) -> o.path("metadata").path("namespace").asText(""))
            .thenComparing(o -> o.path("metadata").path("name").asText("")));
    return resourceVersion;
  }

  /**
   * The stored objects whose owner references name {@code uid} (the garbage collector's look-up).
   */
  List<JsonNode> ownedBy(String uid) {
    List<JsonNode> out = new ArrayList<>();
    crud.ownedBy(uid).forEach(json -> out.add(Json.parse(json)));
    return out;
  }

  /** How many stored objects requests were tested against (the index's work, for tests). */
  long objectsTested() {
    return crud.objectsTested();
  }

  /** Every stored object, of every kind. */
  List<JsonNode> allObjects() {
    List<JsonNode> out = new ArrayList<>();
    crud.stored().forEach(v -> out.add(Json.parse(v)));
    return out;
  }

  MockResponse create(String collectionPath, JsonNode object) {
    return crud.handleCreate(recorded(HttpMethod.POST, collectionPath, Reply.JSON, object));
  }

  /**
   * Stores {@code object} as new, with the metadata a create gives it (uid, resourceVersion,
   * creationTimestamp, generation) but without the dispatcher's check that it does not exist yet,
   * which scans every stored object: seeding thousands of objects stays linear. Watchers are told
   * as for a create. For objects known to be new (a fresh server's pool).
   */
  String seed(String collectionPath, ObjectNode object, String now) {
    ObjectNode meta = Json.obj(object, "metadata");
    meta.put("uid", UUID.randomUUID().toString());
    meta.put("resourceVersion", String.valueOf(crud.requestResourceVersion()));
    if (!meta.hasNonNull("creationTimestamp")) {
      meta.put("creationTimestamp", now);
    }
    meta.put("generation", 1);
    String json = Json.write(object);
    crud.processEvent(
        collectionPath,
        crud.getKey(collectionPath),
        null,
        Serialization.unmarshal(json, GenericKubernetesResource.class),
        json);
    return json;
  }

  MockResponse update(String itemPath, JsonNode object) {
    return crud.handleUpdate(recorded(HttpMethod.PUT, itemPath, Reply.JSON, object));
  }

  void delete(String itemPath) {
    crud.handleDelete(itemPath);
  }

  /**
   * Opens a watch on {@code collectionPath} from {@code sinceVersion} (0: the objects as they are
   * now, then their changes) sending to {@code stream}; empty when that version is older than the
   * recorded writes reach back (410 Gone).
   */
  Optional<WebSocketListener> openWatch(
      String collectionPath, long sinceVersion, WatchStream stream) {
    return crud.openWatch(collectionPath + "?watch=true", sinceVersion, stream);
  }

  /** Keeps at most {@code writesPerResource} writes of each resource for watches to replay. */
  void limitWatchHistory(int writesPerResource) {
    crud.limitWatchHistory(writesPerResource);
  }

  /** The oldest version a watch of {@code collectionPath} may start from. */
  long oldestReplayable(String collectionPath) {
    return crud.oldestReplayable(collectionPath + "?watch=true");
  }

  /** The request the dispatcher's watch listener is opened with. */
  static RecordedRequest watchRequest(String collectionPath) {
    return recorded(HttpMethod.GET, collectionPath + "?watch=true", null, null);
  }

  /** Mirrors the stored CustomResourceDefinitions into the registry. */
  void refreshCrds() {
    List<JsonNode> crds = new ArrayList<>();
    for (String json : crud.find("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")) {
      JsonNode o = Json.parse(json);
      if ("CustomResourceDefinition".equals(o.path("kind").asText())
          && o.path("apiVersion").asText().startsWith("apiextensions.k8s.io/")) {
        crds.add(o);
      }
    }
    registry.setCustomResourceDefinitions(crds);
  }

  /** The dispatcher's answer as a reply, with the API server's NotFound status. */
  static Reply reply(MockResponse response, ResourceType type, String name) {
    String body = response.getBody() == null ? "" : response.getBody().readUtf8();
    int code = response.code();
    if (code == 202) {
      code = 200;
    }
    if (code == 404) {
      return Reply.notFound(type, name);
    }
    return new Reply(code, Reply.JSON, body);
  }

  private static RecordedRequest recorded(
      HttpMethod method, String path, String contentType, JsonNode body) {
    Headers.Builder headers = Headers.builder();
    if (contentType != null) {
      headers.add("Content-Type", contentType);
    }
    return new RecordedRequest(
        "HTTP/1.1",
        method,
        path,
        headers.build(),
        body == null ? new Buffer() : new Buffer().writeUtf8(Json.write(body)));
  }
}
