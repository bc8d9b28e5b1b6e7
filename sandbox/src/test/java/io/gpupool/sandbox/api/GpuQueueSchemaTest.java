package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The checked-in GpuQueue and TrainingJob CRDs refuse bad queue settings (schema and CEL). */
class GpuQueueSchemaTest {
  private static ResourceType queue;
  private static ResourceType job;
  private final SchemaValidator validator = new SchemaValidator();

  @BeforeAll
  static void loadCrds() throws IOException {
    queue = load("gpuqueues.gpupool.io.yaml");
    job = load("trainingjobs.gpupool.io.yaml");
  }

  private static ResourceType load(String file) throws IOException {
    return ResourceRegistry.fromCrd(Json.YAML.readTree(Path.of("..", "crds", file).toFile()))
        .get(0);
  }

  private List<String> errors(ResourceType type, String kind, String specYaml) throws IOException {
    JsonNode object =
        Json.YAML.readTree(
            "apiVersion: gpupool.io/v1alpha1\nkind: "
                + kind
                + "\nmetadata: {name: x}\nspec:\n"
                + specYaml.indent(2));
    return validator.validate(object, type.schema(), null).stream()
        .map(SchemaValidator.FieldError::message)
        .toList();
  }

  private static final String A100 =
      "{name: a100, products: [NVIDIA-A100-SXM4-80GB], nominal: 8, lendingLimit: %d}";

  @Test
  void aValidQueuePasses() throws IOException {
    assertThat(
            errors(
                queue,
                "GpuQueue",
                "cohort: research\nquotas: [" + A100.formatted(4) + "]\nnamespaces: [team-a]"))
        .isEmpty();
  }

  @Test
  void lendingMoreThanTheNominalQuotaIsRefused() throws IOException {
    assertThat(errors(queue, "GpuQueue", "quotas: [" + A100.formatted(9) + "]"))
        .anySatisfy(m -> assertThat(m).contains("lendingLimit cannot exceed nominal"));
  }

  @Test
  void aFlavorListedTwiceIsRefused() throws IOException {
    assertThat(
            errors(
                queue,
                "GpuQueue",
                "quotas: [" + A100.formatted(1) + ", " + A100.formatted(2) + "]"))
        .anySatisfy(m -> assertThat(m).contains("each flavor may be listed once"));
  }

  @Test
  void aQueueWithoutQuotasOrWithANegativeOneIsRefused() throws IOException {
    assertThat(errors(queue, "GpuQueue", "cohort: x")).isNotEmpty();
    assertThat(
            errors(
                queue,
                "GpuQueue",
                "quotas: [{name: a, products: [NVIDIA-A100-SXM4-80GB], nominal: -1}]"))
        .isNotEmpty();
  }

  @Test
  void theQueueExamplesAreValid() throws IOException {
    int checked = 0;
    try (var files = java.nio.file.Files.list(Path.of("..", "examples", "queues"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
        var parser = Json.YAML.getFactory().createParser(java.nio.file.Files.readString(file));
        for (JsonNode doc : Json.YAML.readValues(parser, JsonNode.class).readAll()) {
          ResourceType type =
              switch (doc.path("kind").asText()) {
                case "GpuQueue" -> queue;
                case "TrainingJob" -> job;
                default -> null;
              };
          if (type != null) {
            assertThat(validator.validate(doc, type.schema(), null))
                .as("%s %s", file.getFileName(), doc.at("/metadata/name").asText())
                .isEmpty();
            checked++;
          }
        }
      }
    }
    assertThat(checked).isGreaterThanOrEqualTo(5);
  }

  @Test
  void aJobWithBothPriorityAndPriorityClassIsRefused() throws IOException {
    String base =
        "image: x\nparallelism: {workers: 1}\nmodel: {parameters: 7B, layers: 32}\n"
            + "queue: team-a\n";
    assertThat(errors(job, "TrainingJob", base + "priority: 5")).isEmpty();
    assertThat(errors(job, "TrainingJob", base + "priority: 5\npriorityClassName: high"))
        .anySatisfy(m -> assertThat(m).contains("set priority or priorityClassName, not both"));
    assertThat(errors(job, "TrainingJob", base.replace("team-a", "Team_A"))).isNotEmpty();
  }
}
