package io.gpupool.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** docs/crd-reference.md must mention every spec field users can set. */
class CrdReferenceDocTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs", "gpuproviders", "gpuqueues"})
  void everySpecFieldIsDocumented(String plural) throws IOException {
    JsonNode crd =
        YAML.readTree(
            Path.of("target/classes/META-INF/fabric8", plural + ".gpupool.io-v1.yml").toFile());
    JsonNode spec = crd.at("/spec/versions/0/schema/openAPIV3Schema/properties/spec");
    List<String> fields = new ArrayList<>();
    collect(spec, "spec", fields);
    String doc = Files.readString(Path.of("../docs/crd-reference.md"));
    assertThat(fields).isNotEmpty();
    assertThat(fields)
        .allSatisfy(
            field ->
                assertThat(doc)
                    .as("docs/crd-reference.md documents %s", field)
                    .containsPattern("`" + Pattern.quote(field) + "(?![A-Za-z0-9])"));
  }

  private static void collect(JsonNode schema, String path, List<String> out) {
    JsonNode properties = schema.path("properties");
    properties
        .fieldNames()
        .forEachRemaining(
            name -> {
              String child = path + "." + name;
              JsonNode node = properties.get(name);
              boolean nested = node.has("properties") || node.path("items").has("properties");
              // env and the pod template's fields are Kubernetes types, documented by Kubernetes
              if (name.equals("env") || path.endsWith(".template") || !nested) {
                out.add(child);
              } else if (node.has("properties")) {
                collect(node, child, out);
              } else {
                collect(node.get("items"), child + "[]", out);
              }
            });
  }
}
