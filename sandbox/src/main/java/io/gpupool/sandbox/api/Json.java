package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Shared JSON/YAML mappers and small tree helpers. */
public final class Json {
  public static final ObjectMapper MAPPER = new ObjectMapper();
  public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Json() {}

  /** Parses JSON text into a tree. */
  public static JsonNode parse(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Serializes a tree or bean to compact JSON. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ObjectNode object() {
    return JsonNodeFactory.instance.objectNode();
  }

  /** Returns {@code node.path(a).path(b)...}, never null. */
  public static JsonNode at(JsonNode node, String... fields) {
    JsonNode current = node;
    for (String f : fields) {
      current = current.path(f);
    }
    return current;
  }

  /** Text at the given path or null when missing. */
  public static String text(JsonNode node, String... fields) {
    JsonNode v = at(node, fields);
    return v.isMissingNode() || v.isNull() ? null : v.asText();
  }

  /** Gets or creates the object child {@code name} of {@code node}. */
  public static ObjectNode obj(ObjectNode node, String name) {
    JsonNode child = node.get(name);
    if (child instanceof ObjectNode o) {
      return o;
    }
    return node.putObject(name);
  }
}
