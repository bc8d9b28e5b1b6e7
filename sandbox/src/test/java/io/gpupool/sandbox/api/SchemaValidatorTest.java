package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SchemaValidatorTest {

  private static ResourceType widget;
  private final SchemaValidator validator = new SchemaValidator();

  @BeforeAll
  static void loadCrd() throws IOException {
    try (InputStream in =
        SchemaValidatorTest.class.getResourceAsStream("/crds/widgets.test.gpupool.io.yaml")) {
      widget = ResourceRegistry.fromCrd(Json.YAML.readTree(in)).get(0);
    }
  }

  private static ObjectNode widget(String specYaml) {
    try {
      ObjectNode o =
          (ObjectNode)
              Json.YAML.readTree(
                  "apiVersion: test.gpupool.io/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n"
                      + specYaml.indent(2));
      return o;
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private List<String> errors(JsonNode object) {
    return validator.validate(object, widget.schema(), null).stream()
        .map(SchemaValidator.FieldError::message)
        .toList();
  }

  @Test
  void validObjectPasses() {
    assertThat(
            errors(
                widget(
                    """
                    size: 5
                    minSize: 2
                    colour: red
                    owner: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                    label: abc
                    tags: [a]
                    ratio: 0.5
                    limits: {cpu: 2}
                    """)))
        .isEmpty();
  }

  @Test
  void minimumNamesTheFieldLikeTheApiServer() {
    List<SchemaValidator.FieldError> errors =
        validator.validate(widget("size: 0"), widget.schema(), null);
    assertThat(errors).hasSize(1);
    assertThat(SchemaValidator.invalidMessage(widget.qualifiedKind(), "w", errors))
        .isEqualTo(
            "Widget.test.gpupool.io \"w\" is invalid: spec.size: Invalid value: 0: spec.size in"
                + " body should be greater than or equal to 1");
  }

  @Test
  void everyConstraintKindIsReported() {
    assertThat(errors(widget("size: 101")))
        .containsExactly(
            "spec.size: Invalid value: 101: spec.size in body should be less than or equal to 100");
    assertThat(errors(widget("size: \"five\"")))
        .containsExactly(
            "spec.size: Invalid value: \"string\": spec.size in body must be of type integer:"
                + " \"string\"");
    assertThat(errors(widget("colour: red"))).containsExactly("spec.size: Required value");
    assertThat(errors(widget("size: 1\ncolour: pink")))
        .containsExactly(
            "spec.colour: Unsupported value: \"pink\": supported values: \"red\", \"green\","
                + " \"blue\"");
    assertThat(errors(widget("size: 1\nowner: \"0x12\"")))
        .containsExactly(
            "spec.owner: Invalid value: \"0x12\": spec.owner in body should match"
                + " '^0x[0-9a-fA-F]{40}$'");
    assertThat(errors(widget("size: 1\nlabel: a")))
        .containsExactly(
            "spec.label: Invalid value: \"a\": spec.label in body should be at least 2 chars long");
    assertThat(errors(widget("size: 1\nlabel: abcdefghij")))
        .containsExactly("spec.label: Too long: may not be more than 8 bytes");
    assertThat(errors(widget("size: 1\ntags: []")))
        .containsExactly(
            "spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items");
    assertThat(errors(widget("size: 1\ntags: [a, b, c, d]")))
        .containsExactly("spec.tags: Too many: 4: must have at most 3 items");
    assertThat(errors(widget("size: 1\ntags: [a, 7]")))
        .containsExactly(
            "spec.tags[1]: Invalid value: \"integer\": spec.tags[1] in body must be of type string:"
                + " \"integer\"");
    assertThat(errors(widget("size: 1\nratio: 0")))
        .containsExactly(
            "spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0");
    assertThat(errors(widget("size: 1\nlimits: {cpu: true}")))
        .containsExactly(
            "spec.limits.cpu: Invalid value: \"boolean\": spec.limits.cpu in body must be of type"
                + " string: \"boolean\"");
  }

  @Test
  void celRuleFailsWithItsMessageAtItsFieldPath() {
    List<SchemaValidator.FieldError> errors =
        validator.validate(widget("size: 3\nminSize: 4"), widget.schema(), null);
    assertThat(errors)
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.field()).isEqualTo("spec.minSize");
              assertThat(e.message())
                  .isEqualTo(
                      "spec.minSize: Invalid value: \"object\": minSize must not exceed size");
            });
    assertThat(errors(widget("size: 4\nminSize: 4"))).isEmpty();
  }

  @Test
  void listMapRefusesTwoItemsWithTheSameKey() {
    assertThat(
            errors(
                widget(
                    """
                    size: 3
                    parts: [{product: a, price: "1"}, {product: b}, {product: a, price: "2"}]
                    """)))
        .containsExactly("spec.parts[2]: Duplicate value: {\"product\":\"a\"}");
    assertThat(errors(widget("size: 3\nparts: [{product: a}, {product: b}]"))).isEmpty();
  }

  @Test
  void severalErrorsAreListedTogether() {
    List<SchemaValidator.FieldError> errors =
        validator.validate(widget("size: 0\ncolour: pink"), widget.schema(), null);
    assertThat(SchemaValidator.invalidMessage("Widget.test.gpupool.io", "w", errors))
        .startsWith("Widget.test.gpupool.io \"w\" is invalid: [spec.size: Invalid value: 0")
        .contains(", spec.colour: Unsupported value: \"pink\"")
        .endsWith("]");
  }

  @Test
  void defaultsAreFilledInNestedObjectsOnly() {
    ObjectNode w = widget("size: 1\nlimits: {}");
    SchemaValidator.applyDefaults(w, widget.schema());
    assertThat(w.path("spec").path("colour").asText()).isEqualTo("green");
    assertThat(w.path("spec").path("limits").path("retries").asInt()).isEqualTo(3);

    ObjectNode noLimits = widget("size: 1\ncolour: red");
    SchemaValidator.applyDefaults(noLimits, widget.schema());
    assertThat(noLimits.path("spec").path("colour").asText()).isEqualTo("red");
    assertThat(noLimits.path("spec").has("limits")).isFalse();
  }

  @Test
  void unknownFieldsArePrunedAndReported() {
    ObjectNode w = widget("size: 1\nsise: 2\nlimits: {cpu: 1, gpu: 2}\ntags: [a]");
    w.put("extra", true);
    w.putObject("status").put("phase", "Running").put("secret", "x");
    List<String> pruned = SchemaValidator.prune(w, widget.schema());
    assertThat(pruned).containsExactly("spec.sise", "spec.limits.gpu", "extra", "status.secret");
    assertThat(w.path("spec").has("sise")).isFalse();
    assertThat(w.path("spec").path("limits").path("cpu").asInt()).isEqualTo(1);
    assertThat(w.path("status").path("phase").asText()).isEqualTo("Running");
    assertThat(w.path("metadata").path("name").asText()).isEqualTo("w");
    assertThat(SchemaValidator.prune(w, widget.schema())).isEmpty();
  }

  @Test
  void preservedAndMapFieldsAreKept() {
    JsonNode schema =
        Json.parse(
            """
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
              "labels":{"type":"object","additionalProperties":{"type":"string"}}}}}}
            """);
    ObjectNode o =
        (ObjectNode) Json.parse("{\"spec\":{\"free\":{\"a\":{\"b\":1}},\"labels\":{\"x\":\"y\"}}}");
    assertThat(SchemaValidator.prune(o, schema)).isEmpty();
    assertThat(o.at("/spec/free/a/b").asInt()).isEqualTo(1);
    assertThat(o.at("/spec/labels/x").asText()).isEqualTo("y");
  }

  @Test
  void statusIsValidatedToo() {
    ObjectNode w = widget("size: 1");
    w.putObject("status").put("phase", "Exploded");
    assertThat(errors(w))
        .containsExactly(
            "status.phase: Unsupported value: \"Exploded\": supported values: \"Pending\","
                + " \"Running\", \"Done\"");
  }

  @Test
  void transitionRulesUseOldSelfOnlyOnUpdate() {
    JsonNode schema =
        Json.parse(
            """
            {"type":"object","properties":{"spec":{"type":"object",
             "x-kubernetes-validations":[{"rule":"self.size >= oldSelf.size",
               "message":"size may not shrink"}],
             "properties":{"size":{"type":"integer"}}}}}
            """);
    ObjectNode before = widget("size: 5");
    ObjectNode after = widget("size: 4");
    assertThat(validator.validate(after, schema, null)).isEmpty();
    assertThat(validator.validate(after, schema, before))
        .singleElement()
        .extracting(SchemaValidator.FieldError::message)
        .isEqualTo("spec: Invalid value: \"object\": size may not shrink");
  }
}
