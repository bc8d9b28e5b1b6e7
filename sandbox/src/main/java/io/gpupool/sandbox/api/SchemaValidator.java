package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Validates a custom resource against its CRD's openAPIV3Schema (types, required, enum, pattern,
 * bounds, lengths, item counts) and {@code x-kubernetes-validations} CEL rules, and applies schema
 * defaults, producing the messages a real API server would.
 */
public final class SchemaValidator {

  /** One field error, rendered like apimachinery's {@code field.Error}. */
  public record FieldError(String field, String type, String value, String detail, String reason) {
    /** {@code spec.x: Invalid value: 0: spec.x in body should be ...}. */
    public String message() {
      StringBuilder b = new StringBuilder(field).append(": ").append(type);
      if (value != null) {
        b.append(": ").append(value);
      }
      if (detail != null && !detail.isEmpty()) {
        b.append(": ").append(detail);
      }
      return b.toString();
    }
  }

  private final CelRules cel = new CelRules();

  /**
   * Errors of {@code object} against {@code schema}; {@code old} is the stored object on update
   * (for transition rules using {@code oldSelf}), or null.
   */
  public List<FieldError> validate(JsonNode object, JsonNode schema, JsonNode old) {
    List<FieldError> errors = new ArrayList<>();
    if (schema == null || !schema.isObject() || schema.isEmpty()) {
      return errors;
    }
    ObjectNode root = object.deepCopy();
    // metadata, apiVersion and kind are the API server's own business; root-level rules may read
    // metadata.name and metadata.generateName only, as on the API server.
    JsonNode metadata = root.remove("metadata");
    root.remove("apiVersion");
    root.remove("kind");
    if (metadata != null && metadata.isObject()) {
      ObjectNode visible = root.putObject("metadata");
      for (String name : List.of("name", "generateName")) {
        if (metadata.has(name)) {
          visible.set(name, metadata.get(name));
        }
      }
    }
    ObjectNode rootSchema = schema.deepCopy();
    if (rootSchema.path("properties").isObject()) {
      ((ObjectNode) rootSchema.get("properties")).remove(List.of("metadata", "apiVersion", "kind"));
    }
    JsonNode oldRoot = old;
    validateNode(root, rootSchema, "", oldRoot, errors);
    return errors;
  }

  private void validateNode(
      JsonNode value, JsonNode schema, String path, JsonNode old, List<FieldError> errors) {
    String field = path.isEmpty() ? "<root>" : path;
    if (value.isNull()) {
      if (!schema.path("nullable").asBoolean(false)) {
        String type = schema.path("type").asText("");
        if (!type.isEmpty()) {
          errors.add(
              invalid(
                  field, "\"null\"", field + " in body must be of type " + type + ": \"null\""));
        }
      }
      return;
    }
    if (!checkType(value, schema, field, errors)) {
      return;
    }
    checkEnum(value, schema, field, errors);
    if (value.isTextual()) {
      checkString(value.asText(), schema, field, errors);
    }
    if (value.isNumber()) {
      checkNumber(value, schema, field, errors);
    }
    if (value.isArray()) {
      checkArray(value, schema, field, errors);
      JsonNode items = schema.path("items");
      if (items.isObject()) {
        for (int i = 0; i < value.size(); i++) {
          JsonNode oldItem = old != null && old.isArray() && i < old.size() ? old.get(i) : null;
          validateNode(value.get(i), items, path + "[" + i + "]", oldItem, errors);
        }
      }
    }
    if (value.isObject()) {
      for (JsonNode req : schema.path("required")) {
        if (!value.has(req.asText())) {
          errors.add(
              new FieldError(
                  child(path, req.asText()), "Required value", null, null, "FieldValueRequired"));
        }
      }
      JsonNode props = schema.path("properties");
      JsonNode additional = schema.path("additionalProperties");
      for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        JsonNode propSchema = props.get(e.getKey());
        if (propSchema == null && additional.isObject()) {
          propSchema = additional;
        }
        if (propSchema != null) {
          JsonNode oldChild = old != null && old.isObject() ? old.get(e.getKey()) : null;
          validateNode(e.getValue(), propSchema, child(path, e.getKey()), oldChild, errors);
        }
      }
    }
    checkRules(value, schema, path, old, errors);
  }

  private boolean checkType(
      JsonNode value, JsonNode schema, String field, List<FieldError> errors) {
    String type = schema.path("type").asText("");
    if (type.isEmpty()) {
      return true;
    }
    boolean intOrString = schema.path("x-kubernetes-int-or-string").asBoolean(false);
    boolean ok =
        switch (type) {
          case "object" -> value.isObject();
          case "array" -> value.isArray();
          case "string" -> value.isTextual() || (intOrString && value.isIntegralNumber());
          case "integer" ->
              value.isIntegralNumber()
                  || (value.isNumber() && value.asDouble() == Math.rint(value.asDouble()));
          case "number" -> value.isNumber();
          case "boolean" -> value.isBoolean();
          default -> true;
        };
    if (!ok) {
      String actual = jsonType(value);
      errors.add(
          invalid(
              field,
              quote(actual),
              field + " in body must be of type " + type + ": " + quote(actual)));
    }
    return ok;
  }

  private static void checkEnum(
      JsonNode value, JsonNode schema, String field, List<FieldError> errors) {
    JsonNode allowed = schema.path("enum");
    if (!allowed.isArray() || allowed.isEmpty()) {
      return;
    }
    for (JsonNode a : allowed) {
      if (a.equals(value)
          || (a.isNumber() && value.isNumber() && a.asDouble() == value.asDouble())) {
        return;
      }
    }
    List<String> names = new ArrayList<>();
    allowed.forEach(a -> names.add(render(a)));
    errors.add(
        new FieldError(
            field,
            "Unsupported value",
            render(value),
            "supported values: " + String.join(", ", names),
            "FieldValueNotSupported"));
  }

  private static void checkString(
      String s, JsonNode schema, String field, List<FieldError> errors) {
    int length = s.codePointCount(0, s.length());
    if (schema.has("minLength") && length < schema.get("minLength").asInt()) {
      errors.add(
          invalid(
              field,
              quote(s),
              field
                  + " in body should be at least "
                  + schema.get("minLength").asInt()
                  + " chars long"));
    }
    if (schema.has("maxLength") && length > schema.get("maxLength").asInt()) {
      errors.add(
          new FieldError(
              field,
              "Too long",
              null,
              "may not be more than " + schema.get("maxLength").asInt() + " bytes",
              "FieldValueTooLong"));
    }
    if (schema.has("pattern")) {
      String pattern = schema.get("pattern").asText();
      boolean matches;
      try {
        matches = Pattern.compile(pattern).matcher(s).find();
      } catch (PatternSyntaxException e) {
        matches = true;
      }
      if (!matches) {
        errors.add(invalid(field, quote(s), field + " in body should match '" + pattern + "'"));
      }
    }
  }

  private static void checkNumber(
      JsonNode value, JsonNode schema, String field, List<FieldError> errors) {
    double v = value.asDouble();
    if (schema.has("minimum")) {
      double min = schema.get("minimum").asDouble();
      boolean exclusive = schema.path("exclusiveMinimum").asBoolean(false);
      if (exclusive ? v <= min : v < min) {
        errors.add(
            invalid(
                field,
                render(value),
                field
                    + " in body should be greater than "
                    + (exclusive ? "" : "or equal to ")
                    + number(schema.get("minimum"))));
      }
    }
    if (schema.has("maximum")) {
      double max = schema.get("maximum").asDouble();
      boolean exclusive = schema.path("exclusiveMaximum").asBoolean(false);
      if (exclusive ? v >= max : v > max) {
        errors.add(
            invalid(
                field,
                render(value),
                field
                    + " in body should be less than "
                    + (exclusive ? "" : "or equal to ")
                    + number(schema.get("maximum"))));
      }
    }
  }

  private static void checkArray(
      JsonNode value, JsonNode schema, String field, List<FieldError> errors) {
    if (schema.has("minItems") && value.size() < schema.get("minItems").asInt()) {
      errors.add(
          invalid(
              field,
              String.valueOf(value.size()),
              field
                  + " in body should have at least "
                  + schema.get("minItems").asInt()
                  + " items"));
    }
    if (schema.has("maxItems") && value.size() > schema.get("maxItems").asInt()) {
      errors.add(
          new FieldError(
              field,
              "Too many",
              String.valueOf(value.size()),
              "must have at most " + schema.get("maxItems").asInt() + " items",
              "FieldValueTooMany"));
    }
    checkListMapKeys(value, schema, field, errors);
  }

  /** {@code x-kubernetes-list-type: map}: no two items may share their key fields. */
  private static void checkListMapKeys(
      JsonNode value, JsonNode schema, String field, List<FieldError> errors) {
    if (!"map".equals(schema.path("x-kubernetes-list-type").asText())) {
      return;
    }
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < value.size(); i++) {
      ObjectNode key = Json.MAPPER.createObjectNode();
      for (JsonNode name : schema.path("x-kubernetes-list-map-keys")) {
        key.set(name.asText(), value.get(i).path(name.asText()).deepCopy());
      }
      if (!seen.add(key.toString())) {
        errors.add(
            new FieldError(
                field + "[" + i + "]",
                "Duplicate value",
                key.toString(),
                null,
                "FieldValueDuplicate"));
      }
    }
  }

  private void checkRules(
      JsonNode value, JsonNode schema, String path, JsonNode old, List<FieldError> errors) {
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      String expression = rule.path("rule").asText();
      boolean transition = expression.contains("oldSelf");
      if (transition && old == null) {
        continue;
      }
      CelRules.Result result = cel.evaluate(expression, value, transition ? old : null);
      if (result.passed()) {
        continue;
      }
      String fieldPath = rule.path("fieldPath").asText("");
      String field = fieldPath.isEmpty() ? path : path + fieldPath;
      if (field.startsWith(".")) {
        field = field.substring(1);
      }
      if (field.isEmpty()) {
        field = "<root>";
      }
      String message =
          result.error() != null
              ? result.error()
              : rule.path("message").asText("failed rule: " + expression);
      String reason = rule.path("reason").asText("FieldValueInvalid");
      errors.add(
          switch (reason) {
            case "FieldValueRequired" ->
                new FieldError(field, "Required value", null, message, reason);
            case "FieldValueForbidden" -> new FieldError(field, "Forbidden", null, message, reason);
            case "FieldValueDuplicate" ->
                new FieldError(field, "Duplicate value", quote(jsonType(value)), message, reason);
            default ->
                new FieldError(field, "Invalid value", quote(jsonType(value)), message, reason);
          });
    }
  }

  /**
   * Removes the fields the structural schema does not declare, as the API server's pruning does
   * ({@code apiVersion}, {@code kind} and {@code metadata} of the root are kept), and returns their
   * paths, e.g. {@code spec.foo}, for strict field validation.
   */
  public static List<String> prune(JsonNode object, JsonNode schema) {
    List<String> pruned = new ArrayList<>();
    if (schema == null || !schema.isObject() || schema.isEmpty() || !object.isObject()) {
      return pruned;
    }
    ObjectNode root = (ObjectNode) object;
    List<String> names = new ArrayList<>();
    root.fieldNames().forEachRemaining(names::add);
    JsonNode props = schema.path("properties");
    for (String name : names) {
      if (name.equals("apiVersion") || name.equals("kind") || name.equals("metadata")) {
        continue;
      }
      if (props.has(name)) {
        pruneNode(root.get(name), props.get(name), name, pruned);
      } else if (!schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)) {
        root.remove(name);
        pruned.add(name);
      }
    }
    return pruned;
  }

  private static void pruneNode(JsonNode value, JsonNode schema, String path, List<String> pruned) {
    if (value.isArray()) {
      JsonNode items = schema.path("items");
      if (items.isObject()) {
        for (int i = 0; i < value.size(); i++) {
          pruneNode(value.get(i), items, path + "[" + i + "]", pruned);
        }
      }
      return;
    }
    if (!value.isObject()
        || schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)
        || schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      return;
    }
    ObjectNode obj = (ObjectNode) value;
    JsonNode props = schema.path("properties");
    JsonNode additional = schema.path("additionalProperties");
    boolean embedded = schema.path("x-kubernetes-embedded-resource").asBoolean(false);
    List<String> names = new ArrayList<>();
    obj.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      if (props.has(name)) {
        pruneNode(obj.get(name), props.get(name), path + "." + name, pruned);
      } else if (additional.isObject()) {
        pruneNode(obj.get(name), additional, path + "." + name, pruned);
      } else if (additional.asBoolean(false)
          || (embedded && List.of("apiVersion", "kind", "metadata").contains(name))) {
        continue;
      } else {
        obj.remove(name);
        pruned.add(path + "." + name);
      }
    }
  }

  /** Fills missing properties that have a {@code default} in the schema, recursively. */
  public static void applyDefaults(JsonNode value, JsonNode schema) {
    if (value == null || schema == null) {
      return;
    }
    if (value.isObject()) {
      ObjectNode obj = (ObjectNode) value;
      JsonNode props = schema.path("properties");
      for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!obj.has(e.getKey()) && e.getValue().has("default")) {
          obj.set(e.getKey(), e.getValue().get("default").deepCopy());
        }
        if (obj.has(e.getKey())) {
          applyDefaults(obj.get(e.getKey()), e.getValue());
        }
      }
      JsonNode additional = schema.path("additionalProperties");
      if (additional.isObject()) {
        obj.fields()
            .forEachRemaining(
                e -> {
                  if (!props.has(e.getKey())) {
                    applyDefaults(e.getValue(), additional);
                  }
                });
      }
    } else if (value.isArray() && schema.path("items").isObject()) {
      value.forEach(item -> applyDefaults(item, schema.get("items")));
    }
  }

  /** The Status message for a refused object: {@code Kind.group "name" is invalid: ...}. */
  public static String invalidMessage(String qualifiedKind, String name, List<FieldError> errors) {
    String prefix = qualifiedKind + " \"" + name + "\" is invalid: ";
    if (errors.size() == 1) {
      return prefix + errors.get(0).message();
    }
    List<String> messages = new ArrayList<>();
    errors.forEach(e -> messages.add(e.message()));
    return prefix + "[" + String.join(", ", messages) + "]";
  }

  private static FieldError invalid(String field, String value, String detail) {
    return new FieldError(field, "Invalid value", value, detail, "FieldValueInvalid");
  }

  private static String child(String path, String name) {
    return path.isEmpty() ? name : path + "." + name;
  }

  private static String jsonType(JsonNode v) {
    if (v.isObject()) {
      return "object";
    } else if (v.isArray()) {
      return "array";
    } else if (v.isTextual()) {
      return "string";
    } else if (v.isIntegralNumber()) {
      return "integer";
    } else if (v.isNumber()) {
      return "number";
    } else if (v.isBoolean()) {
      return "boolean";
    }
    return "null";
  }

  private static String render(JsonNode v) {
    if (v.isTextual()) {
      return quote(v.asText());
    }
    return v.toString();
  }

  private static String number(JsonNode n) {
    double d = n.asDouble();
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
