package io.gpupool.operator.status;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;

/**
 * Writes a resource's whole status in one request: a JSON Patch that adds (so replaces) {@code
 * /status}. The alternative, a JSON Patch diffed against the informer's copy, names array indices
 * of a copy that may be older than the server's (our own last write not yet delivered); the server
 * then refuses it ("index out of bounds at /status/conditions") and the write is lost until the
 * next reconcile. Only the reconciler of a kind writes its status, so replacing it is safe.
 */
public final class StatusReplace {
  private StatusReplace() {}

  /** The patch body: {@code [{"op":"add","path":"/status","value":status}]}. */
  public static String patch(Object status) {
    return patch(null, status);
  }

  /**
   * The patch body, led by {@code {"op":"replace","path":"/metadata/resourceVersion"}} when {@code
   * readVersion} is given: the API server then refuses the write (409 Conflict) unless the stored
   * resource is still the version the status was computed from (optimistic locking).
   */
  public static String patch(String readVersion, Object status) {
    ArrayNode ops = Serialization.jsonMapper().createArrayNode();
    if (readVersion != null) {
      ObjectNode lock = ops.addObject();
      lock.put("op", "replace");
      lock.put("path", "/metadata/resourceVersion");
      lock.put("value", readVersion);
    }
    ObjectNode op = ops.addObject();
    op.put("op", "add");
    op.put("path", "/status");
    JsonNode value = Serialization.jsonMapper().valueToTree(status);
    op.set("value", value == null || value.isNull() ? ops.objectNode() : withoutNulls(value));
    return ops.toString();
  }

  /** An absent field, not a null one: the schema does not declare status fields nullable. */
  private static JsonNode withoutNulls(JsonNode node) {
    if (node.isObject()) {
      ObjectNode copy = ((ObjectNode) node).objectNode();
      node.fields()
          .forEachRemaining(
              e -> {
                if (!e.getValue().isNull()) {
                  copy.set(e.getKey(), withoutNulls(e.getValue()));
                }
              });
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = ((ArrayNode) node).arrayNode();
      node.forEach(item -> copy.add(withoutNulls(item)));
      return copy;
    }
    return node;
  }

  /** Replaces {@code resource}'s status on the server; a resource deleted meanwhile is ignored. */
  public static <T extends HasMetadata> void write(
      KubernetesClient client, Class<T> type, T resource, Object status) {
    try {
      send(client, type, resource, patch(status));
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  /**
   * Replaces {@code resource}'s status only if the stored resource is still at {@code resource}'s
   * version (409 otherwise) and returns the resource as now stored.
   */
  public static <T extends HasMetadata> T writeLocked(
      KubernetesClient client, Class<T> type, T resource, Object status) {
    return send(client, type, resource, patch(resource.getMetadata().getResourceVersion(), status));
  }

  private static <T extends HasMetadata> T send(
      KubernetesClient client, Class<T> type, T resource, String patch) {
    String namespace = resource.getMetadata().getNamespace();
    var resources = client.resources(type);
    // With the item at hand the client sends the patch alone; by name it would GET first.
    return (namespace == null ? resources : resources.inNamespace(namespace))
        .resource(resource)
        .subresource("status")
        .patch(PatchContext.of(PatchType.JSON), patch);
  }
}
