package io.gpupool.operator.pool;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.gpupool.sandbox.api.SchemaValidator;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What the API server does with a gpupool resource before storing it, as the sandbox's API server
 * does it ({@link SchemaValidator}): schema defaults applied, then types, bounds, enums, patterns,
 * required fields, list-map keys and the CEL rules checked. The property tests keep only what it
 * accepts, so what they feed the operator is exactly what a cluster could hold.
 */
public final class ApiServerSchema {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final SchemaValidator VALIDATOR = new SchemaValidator();

  private ApiServerSchema() {}

  /** The openAPIV3Schema of the checked-in CRD {@code plural} (crds/, what users apply). */
  public static JsonNode crd(String plural) {
    Path file = Path.of("..", "crds", plural + ".gpupool.io.yaml");
    try (InputStream in = Files.newInputStream(file)) {
      return YAML.readTree(in).at("/spec/versions/0/schema/openAPIV3Schema");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Applies the schema's defaults to {@code object} (in place, as the API server stores it) and
   * returns why the API server would refuse it: empty when it is accepted.
   */
  public static List<String> refusals(ObjectNode object, JsonNode schema) {
    return errors(object, schema).stream().map(SchemaValidator.FieldError::message).toList();
  }

  /** As {@link #refusals}, each with the field it names. */
  static List<SchemaValidator.FieldError> errors(ObjectNode object, JsonNode schema) {
    SchemaValidator.applyDefaults(object, schema);
    return VALIDATOR.validate(object, schema, null);
  }
}
