package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.mockwebserver.http.MockResponse;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Creates, replaces and patches objects as the API server does: namespace and name checks,
 * generateName, optimistic concurrency on resourceVersion, the status subresource, pruning,
 * defaulting and schema validation of custom resources, built-in defaults, dry runs.
 */
final class ObjectWrites {

  private final ObjectStore store;
  private final Deletions deletions;
  private final SchemaValidator validator = new SchemaValidator();
  private final BuiltInDefaults builtInDefaults;
  private final Clock clock;

  ObjectWrites(ObjectStore store, Deletions deletions, Clock clock) {
    this.store = store;
    this.deletions = deletions;
    this.clock = clock;
    this.builtInDefaults = new BuiltInDefaults(clock);
  }

  Reply create(ApiRequest r, ResourcePath p, ResourceType type) {
    JsonNode parsed = r.parsedBody();
    if (!(parsed instanceof ObjectNode object)) {
      return Reply.status(400, "BadRequest", "the request body is not a JSON object");
    }
    ObjectNode meta = Json.obj(object, "metadata");
    if (type.namespaced() && p.namespace == null) {
      return Reply.status(
          405,
          "MethodNotAllowed",
          "the server does not allow this method on the requested resource (namespaced "
              + type.plural()
              + " are created under /namespaces/NAMESPACE/)");
    }
    if (type.namespaced()) {
      String ns = meta.path("namespace").asText(null);
      if (ns != null && !ns.equals(p.namespace)) {
        return Reply.status(
            400,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request");
      }
      meta.put("namespace", p.namespace);
    } else {
      meta.remove("namespace");
    }
    if (!object.hasNonNull("apiVersion")) {
      object.put("apiVersion", type.apiVersion());
    }
    if (!object.hasNonNull("kind")) {
      object.put("kind", type.kind());
    }
    String name = meta.path("name").asText("");
    if (name.isEmpty()) {
      String generateName = meta.path("generateName").asText("");
      if (generateName.isEmpty()) {
        return Reply.invalid(
            type,
            "",
            List.of(
                new SchemaValidator.FieldError(
                    "metadata.name",
                    "Required value",
                    null,
                    "name or generateName is required",
                    "FieldValueRequired")));
      }
      name = generateName + Long.toString(Math.abs(clock.millis() ^ System.nanoTime()), 36);
      name = name.substring(0, Math.min(name.length(), 63)).toLowerCase(Locale.ROOT);
      meta.put("name", name);
    }
    ResourcePath item = p.withName(name);
    if (store.fetch(item.itemPath()) != null) {
      return Reply.status(
          409,
          "AlreadyExists",
          type.qualifiedResource() + " \"" + name + "\" already exists",
          Reply.details(type, name));
    }
    if (type.isCustom()) {
      Reply strict = prune(r, type, object);
      if (strict != null) {
        return strict;
      }
      SchemaValidator.applyDefaults(object, type.schema());
      List<SchemaValidator.FieldError> errors = validator.validate(object, type.schema(), null);
      if (!errors.isEmpty()) {
        return Reply.invalid(type, name, errors);
      }
    }
    builtInDefaults.apply(type, object);
    if (r.isDryRun()) {
      return Reply.json(201, object);
    }
    MockResponse response = store.create(p.collectionPath(), object);
    if (type.kind().equals("CustomResourceDefinition")) {
      store.refreshCrds();
    }
    return ObjectStore.reply(response, type, name);
  }

  /**
   * Stores a built-in object known to be new ({@link ObjectStore#seed}): the built-in defaults of a
   * create, no existence check. Returns the object as stored.
   */
  String seed(ResourceType type, ObjectNode object) {
    if (type.isCustom()) {
      throw new IllegalArgumentException("only built-in objects are seeded, not " + type.kind());
    }
    String ns = object.path("metadata").path("namespace").asText(null);
    if (type.namespaced() != (ns != null)) {
      throw new IllegalArgumentException(
          type.kind()
              + " "
              + object.path("metadata").path("name").asText()
              + ": namespace "
              + (type.namespaced() ? "missing" : "given for a cluster-scoped kind"));
    }
    builtInDefaults.apply(type, object);
    return store.seed(type.collectionPath(ns), object, Instant.now(clock).toString());
  }

  Reply update(ApiRequest r, ResourcePath p, ResourceType type, JsonNode body) {
    if (!(body instanceof ObjectNode object)) {
      return Reply.status(400, "BadRequest", "the request body is not a JSON object");
    }
    JsonNode current = store.fetch(p.itemPathWithoutSubresource());
    if (current == null) {
      return Reply.notFound(type, p.name);
    }
    ObjectNode meta = Json.obj(object, "metadata");
    if (!meta.hasNonNull("name")) {
      meta.put("name", p.name);
    }
    if (!p.name.equals(meta.path("name").asText())) {
      return Reply.status(
          400,
          "BadRequest",
          "the name of the object ("
              + meta.path("name").asText()
              + ") does not match the name on"
              + " the URL ("
              + p.name
              + ")");
    }
    if (type.namespaced()) {
      meta.put("namespace", p.namespace);
    }
    String expectedRv = meta.path("resourceVersion").asText("");
    String currentRv = current.path("metadata").path("resourceVersion").asText("");
    if (!expectedRv.isEmpty() && !expectedRv.equals(currentRv)) {
      return Reply.status(
          409,
          "Conflict",
          "Operation cannot be fulfilled on "
              + type.qualifiedResource()
              + " \""
              + p.name
              + "\": the object has been modified; please apply your changes to the latest version"
              + " and try again",
          Reply.details(type, p.name));
    }
    meta.put("resourceVersion", currentRv);
    if (!object.hasNonNull("apiVersion")) {
      object.put("apiVersion", type.apiVersion());
    }
    if (!object.hasNonNull("kind")) {
      object.put("kind", type.kind());
    }
    boolean statusPath = "status".equals(p.subresource);
    if (type.isCustom()) {
      Reply strict = prune(r, type, object);
      if (strict != null) {
        return strict;
      }
      ObjectNode effective = effective(type, current, object, statusPath);
      SchemaValidator.applyDefaults(effective, type.schema());
      List<SchemaValidator.FieldError> errors =
          validator.validate(effective, type.schema(), current);
      if (!errors.isEmpty()) {
        return Reply.invalid(type, p.name, errors);
      }
      if (!statusPath) {
        SchemaValidator.applyDefaults(object, type.schema());
      }
    }
    if (r.isDryRun()) {
      return Reply.json(200, effective(type, current, object, statusPath));
    }
    String target = statusPath ? p.itemPath() : p.itemPathWithoutSubresource();
    ObjectNode toStore = statusPath ? object : effective(type, current, object, false);
    MockResponse response = store.update(target, toStore);
    if (response.code() < 300
        && current.path("metadata").has("deletionTimestamp")
        && store.fetch(p.itemPathWithoutSubresource()) == null) {
      // The last finalizer went: the dispatcher removed the object; now its dependents go too.
      deletions.afterDeletion(type, current, "Background");
      ObjectNode last = effective(type, current, object, statusPath);
      return Reply.json(200, last);
    }
    if (type.kind().equals("CustomResourceDefinition")) {
      store.refreshCrds();
    }
    return ObjectStore.reply(response, type, p.name);
  }

  /**
   * Prunes fields the CRD schema does not declare; with {@code fieldValidation=Strict} (what
   * kubectl sends by default) they are refused instead, like the real API server does.
   */
  private static Reply prune(ApiRequest r, ResourceType type, ObjectNode object) {
    List<String> unknown = SchemaValidator.prune(object, type.schema());
    if (unknown.isEmpty() || !"Strict".equals(r.query().get("fieldValidation"))) {
      return null;
    }
    List<String> parts = new ArrayList<>();
    unknown.forEach(u -> parts.add("unknown field \"" + u + "\""));
    return Reply.status(
        400,
        "BadRequest",
        type.kind()
            + " in version \""
            + type.version()
            + "\" cannot be handled as a "
            + type.kind()
            + ": strict decoding error: "
            + String.join(", ", parts));
  }

  /** What will be stored: the status subresource splits spec and status writes. */
  private static ObjectNode effective(
      ResourceType type, JsonNode current, ObjectNode update, boolean statusPath) {
    ObjectNode effective;
    if (statusPath) {
      effective = current.deepCopy();
      if (update.has("status")) {
        effective.set("status", update.get("status").deepCopy());
      } else {
        effective.remove("status");
      }
    } else {
      effective = update.deepCopy();
      if (type.statusSubresource()) {
        if (current.has("status")) {
          effective.set("status", current.get("status").deepCopy());
        } else {
          effective.remove("status");
        }
      }
    }
    return effective;
  }

  Reply patch(ApiRequest r, ResourcePath p, ResourceType type) {
    String contentType = r.contentType() == null ? "" : r.contentType();
    boolean apply = contentType.startsWith("application/apply-patch");
    JsonNode patch;
    try {
      patch = apply ? Json.YAML.readTree(r.body()) : Json.parse(r.body());
    } catch (Exception e) {
      return Reply.status(400, "BadRequest", "cannot parse patch: " + e.getMessage());
    }
    JsonNode current = store.fetch(p.itemPathWithoutSubresource());
    if (current == null) {
      if (apply && p.subresource == null) {
        return create(
            new ApiRequest("POST", p.collectionPath(), r.accept(), Reply.JSON, Json.write(patch)),
            p.withName(null),
            type);
      }
      return Reply.notFound(type, p.name);
    }
    JsonNode result;
    try {
      result = Patches.apply(contentType, current, patch);
    } catch (UnsupportedOperationException e) {
      return Reply.status(415, "UnsupportedMediaType", e.getMessage());
    } catch (RuntimeException e) {
      return Reply.status(422, "Invalid", "the patch could not be applied: " + e.getMessage());
    }
    if (result instanceof ObjectNode o) {
      String patchedRv = patch.path("metadata").path("resourceVersion").asText("");
      if (patchedRv.isEmpty() || !contentType.contains("merge")) {
        Json.obj(o, "metadata")
            .put(
                "resourceVersion",
                patchedRv.isEmpty()
                    ? current.path("metadata").path("resourceVersion").asText()
                    : patchedRv);
      }
    }
    return update(new ApiRequest("PUT", r.uri(), r.accept(), Reply.JSON, ""), p, type, result);
  }
}
