package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.zjsonpatch.JsonPatch;
import java.util.Iterator;
import java.util.Map;

/** JSON patch, JSON merge patch (RFC 7386) and a simplified strategic merge patch. */
public final class Patches {
  private Patches() {}

  /** Applies a patch of the given Content-Type to a copy of {@code target}. */
  public static JsonNode apply(String contentType, JsonNode target, JsonNode patch) {
    String ct = contentType == null ? "" : contentType.toLowerCase(java.util.Locale.ROOT);
    if (ct.startsWith("application/json-patch+json")) {
      return JsonPatch.apply(patch, target.deepCopy());
    } else if (ct.startsWith("application/strategic-merge-patch+json")) {
      return strategicMerge(target.deepCopy(), patch, "");
    } else if (ct.startsWith("application/merge-patch+json")
        || ct.startsWith("application/apply-patch+yaml")) {
      return mergePatch(target.deepCopy(), patch);
    }
    throw new UnsupportedOperationException("Unsupported patch type " + contentType);
  }

  /** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
  public static JsonNode mergePatch(JsonNode target, JsonNode patch) {
    if (!patch.isObject()) {
      return patch.deepCopy();
    }
    ObjectNode result = target != null && target.isObject() ? (ObjectNode) target : Json.object();
    for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getValue().isNull()) {
        result.remove(e.getKey());
      } else {
        result.set(e.getKey(), mergePatch(result.get(e.getKey()), e.getValue()));
      }
    }
    return result;
  }

  /**
   * Strategic merge as far as kubectl needs it: like a merge patch, but lists of objects that all
   * carry a merge key ({@code name}; {@code type} for conditions) merge element by element, {@code
   * $patch: delete|replace} directives are honoured and other {@code $} directives dropped.
   */
  public static JsonNode strategicMerge(JsonNode target, JsonNode patch, String field) {
    if (patch.isObject()) {
      String directive = patch.path("$patch").asText("");
      if (directive.equals("replace")) {
        ObjectNode copy = ((ObjectNode) patch).deepCopy();
        copy.remove("$patch");
        return copy;
      }
      if (directive.equals("delete")) {
        return null;
      }
      ObjectNode result = target != null && target.isObject() ? (ObjectNode) target : Json.object();
      for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String key = e.getKey();
        if (key.startsWith("$")) {
          continue;
        }
        if (e.getValue().isNull()) {
          result.remove(key);
          continue;
        }
        JsonNode merged = strategicMerge(result.get(key), e.getValue(), key);
        if (merged == null) {
          result.remove(key);
        } else {
          result.set(key, merged);
        }
      }
      return result;
    }
    if (patch.isArray() && target != null && target.isArray()) {
      String mergeKey = mergeKey(field, (ArrayNode) patch);
      if (mergeKey != null) {
        ArrayNode result = ((ArrayNode) target).deepCopy();
        for (JsonNode item : patch) {
          String keyValue = item.path(mergeKey).asText();
          int index = indexOf(result, mergeKey, keyValue);
          boolean delete = "delete".equals(item.path("$patch").asText(""));
          if (delete) {
            if (index >= 0) {
              result.remove(index);
            }
          } else if (index >= 0) {
            result.set(index, strategicMerge(result.get(index), item, ""));
          } else {
            result.add(strategicMerge(null, item, ""));
          }
        }
        return result;
      }
    }
    return patch.deepCopy();
  }

  private static String mergeKey(String field, ArrayNode patch) {
    String key = field.equals("conditions") ? "type" : "name";
    if (patch.isEmpty()) {
      return null;
    }
    for (JsonNode item : patch) {
      if (!item.isObject() || !item.has(key)) {
        return null;
      }
    }
    return key;
  }

  private static int indexOf(ArrayNode array, String key, String value) {
    for (int i = 0; i < array.size(); i++) {
      if (value.equals(array.get(i).path(key).asText(null))) {
        return i;
      }
    }
    return -1;
  }
}
