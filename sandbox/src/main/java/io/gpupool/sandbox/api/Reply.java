package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/** A complete (non-streaming) response. */
record Reply(int code, String contentType, String body) {
  static final String JSON = "application/json";

  static Reply json(int code, JsonNode body) {
    return new Reply(code, JSON, Json.write(body));
  }

  static Reply status(int code, String reason, String message) {
    return status(code, reason, message, null);
  }

  static Reply status(int code, String reason, String message, ObjectNode details) {
    ObjectNode s =
        Json.object()
            .put("kind", "Status")
            .put("apiVersion", "v1")
            .put("status", code < 400 ? "Success" : "Failure")
            .put("message", message)
            .put("reason", reason)
            .put("code", code);
    s.putObject("metadata");
    if (details != null) {
      s.set("details", details);
    }
    return json(code, s);
  }

  static Reply invalid(ResourceType type, String name, List<SchemaValidator.FieldError> errors) {
    ObjectNode d = details(type, name);
    d.put("kind", type.kind());
    ArrayNode causes = d.putArray("causes");
    for (SchemaValidator.FieldError e : errors) {
      String detail = e.message().substring(e.field().length() + 2);
      causes.addObject().put("reason", e.reason()).put("message", detail).put("field", e.field());
    }
    return status(
        422, "Invalid", SchemaValidator.invalidMessage(type.qualifiedKind(), name, errors), d);
  }

  static ObjectNode details(ResourceType type, String name) {
    ObjectNode d = Json.object().put("name", name).put("kind", type.plural());
    if (!type.group().isEmpty()) {
      d.put("group", type.group());
    }
    return d;
  }

  static Reply notFound(ResourceType type, String name) {
    return Reply.status(
        404,
        "NotFound",
        type.qualifiedResource() + " \"" + name + "\" not found",
        details(type, name));
  }

  static Reply notFoundPath() {
    return Reply.status(404, "NotFound", "the server could not find the requested resource");
  }
}
