package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Deletes as the API server and its controllers do: finalizers hold an object back, owner
 * references cascade to dependents (the garbage collector), a namespace takes its contents along
 * and a CRD its custom resources.
 */
final class Deletions {

  private final ObjectStore store;
  private final ResourceRegistry registry;
  private final Consumer<ResourceType> policyChanged;

  Deletions(ObjectStore store, ResourceRegistry registry, Consumer<ResourceType> policyChanged) {
    this.store = store;
    this.registry = registry;
    this.policyChanged = policyChanged;
  }

  Reply delete(ApiRequest r, ResourcePath p, ResourceType type) {
    JsonNode current = store.fetch(p.itemPath());
    if (current == null) {
      return Reply.notFound(type, p.name);
    }
    String propagation = "Background";
    if (!r.body().isBlank()) {
      try {
        propagation = Json.parse(r.body()).path("propagationPolicy").asText("Background");
      } catch (RuntimeException e) {
        // not JSON: keep the default
      }
    }
    if (r.query().containsKey("propagationPolicy")) {
      propagation = r.query().get("propagationPolicy");
    }
    if (r.isDryRun()) {
      return Reply.json(200, current);
    }
    deleteObject(type, p.itemPath(), current, propagation);
    return Reply.json(200, current);
  }

  Reply deleteCollection(ApiRequest r, ResourcePath p, ResourceType type) {
    Selectors selectors =
        Selectors.parse(r.query().get("labelSelector"), r.query().get("fieldSelector"));
    List<JsonNode> items = new ArrayList<>();
    String rv = store.listInto(p.collectionPath(), type, selectors, items);
    for (JsonNode item : items) {
      String ns = item.path("metadata").path("namespace").asText(null);
      deleteObject(
          type,
          type.collectionPath(ns) + "/" + item.path("metadata").path("name").asText(),
          item,
          "Background");
    }
    ObjectNode list =
        Json.object().put("apiVersion", type.apiVersion()).put("kind", type.kind() + "List");
    list.putObject("metadata").put("resourceVersion", rv);
    ArrayNode array = list.putArray("items");
    items.forEach(array::add);
    return Reply.json(200, list);
  }

  /** Deletes one object (or marks it when it has finalizers) and cascades to what it owns. */
  private void deleteObject(
      ResourceType type, String itemPath, JsonNode current, String propagation) {
    store.delete(itemPath);
    policyChanged.accept(type);
    boolean gone = store.fetch(itemPath) == null;
    if (!gone) {
      return; // finalizers pending: dependents go when the owner finally goes
    }
    afterDeletion(type, current, propagation);
  }

  /** Garbage collection and cascades once an object is really gone. */
  void afterDeletion(ResourceType type, JsonNode current, String propagation) {
    String uid = current.path("metadata").path("uid").asText("");
    if (!"Orphan".equals(propagation)) {
      collectGarbage(uid);
    }
    if (type.kind().equals("Namespace")) {
      deleteNamespaceContents(current.path("metadata").path("name").asText());
    }
    if (type.kind().equals("CustomResourceDefinition")) {
      for (ResourceType t : ResourceRegistry.fromCrd(current)) {
        List<JsonNode> items = new ArrayList<>();
        store.listInto(t.collectionPath(null), t, Selectors.parse(null, null), items);
        for (JsonNode item : items) {
          String ns = item.path("metadata").path("namespace").asText(null);
          store.delete(t.collectionPath(ns) + "/" + item.path("metadata").path("name").asText());
        }
      }
      store.refreshCrds();
    }
  }

  /** Owner-reference garbage collection: deletes every object owned by {@code ownerUid}. */
  private void collectGarbage(String ownerUid) {
    if (ownerUid.isEmpty()) {
      return;
    }
    for (JsonNode o : store.ownedBy(ownerUid)) {
      deleteDependent(o);
    }
  }

  private void deleteNamespaceContents(String namespace) {
    for (JsonNode o : store.allObjects()) {
      if (namespace.equals(o.path("metadata").path("namespace").asText(null))) {
        deleteDependent(o);
      }
    }
  }

  private void deleteDependent(JsonNode o) {
    ResourceType t =
        registry.findByKind(o.path("apiVersion").asText(), o.path("kind").asText()).orElse(null);
    if (t == null) {
      return;
    }
    String ns = o.path("metadata").path("namespace").asText(null);
    String path = t.collectionPath(ns) + "/" + o.path("metadata").path("name").asText();
    if (store.fetch(path) != null) {
      deleteObject(t, path, o, "Background");
    }
  }
}
