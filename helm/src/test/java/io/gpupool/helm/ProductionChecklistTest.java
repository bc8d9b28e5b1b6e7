package io.gpupool.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/operations.md's "Production checklist" names values and their defaults: each value it names
 * exists in values.yaml and values.schema.json, each "`value` (default `x`)" is values.yaml's
 * default, each recommended "`value: x`" is one the schema allows, and the files and sections it
 * points to exist.
 */
class ProductionChecklistTest {

  private static final Path OPERATIONS = Chart.MODULE.resolve("../docs/operations.md");
  private static final Path REPOSITORY = Chart.MODULE.resolve("..");

  /** A value path: dotted, or a single camelCase key (`replicaCount`); optionally `: setting`. */
  private static final Pattern VALUE =
      Pattern.compile(
          "`((?:[a-z][A-Za-z0-9]*(?:\\.[a-z][A-Za-z0-9]*)+)|(?:[a-z]+[A-Z][A-Za-z0-9]*))"
              + "(?:: ([^`]+))?`");

  private static final Pattern DEFAULT =
      Pattern.compile("`([a-zA-Z0-9.]+)`\\s+\\(default\\s+`([^`]*)`\\)");
  private static final Pattern REPOSITORY_PATH =
      Pattern.compile("`(?:[^`]* )?((?:helm|docs)/[^` ]+)`");
  private static final Pattern ANCHOR = Pattern.compile("\\]\\(#([a-z0-9-]+)\\)");

  private static String checklist;
  private static String operations;
  private static JsonNode values;
  private static JsonNode schema;

  @BeforeAll
  static void read() throws IOException {
    operations = Files.readString(OPERATIONS);
    int start = operations.indexOf("\n## Production checklist\n");
    assertThat(start).as("docs/operations.md has a '## Production checklist' section").isPositive();
    int end = operations.indexOf("\n## ", start + 1);
    checklist = operations.substring(start, end < 0 ? operations.length() : end);
    values = Chart.YAML.readTree(Chart.DIR.resolve("values.yaml").toFile());
    schema = Chart.JSON.readTree(Chart.DIR.resolve("values.schema.json").toFile());
  }

  @Test
  void everyValueTheChecklistNamesExistsInValuesYamlAndTheSchema() {
    Set<String> named = new LinkedHashSet<>();
    Matcher m = VALUE.matcher(checklist);
    while (m.find()) {
      named.add(m.group(1));
    }
    assertThat(named)
        .as("the checklist names the values a production install sets")
        .contains("metrics.auth.enabled", "uninstall.hook", "crds.upgradeHook", "logFormat");
    List<String> missing = new ArrayList<>();
    for (String path : named) {
      if (valueAt(path) == null) {
        missing.add(path + " (not in values.yaml)");
      }
      if (schemaAt(path) == null) {
        missing.add(path + " (not in values.schema.json)");
      }
    }
    assertThat(missing).as("values the checklist names that the chart lacks").isEmpty();
  }

  @Test
  void everyDefaultTheChecklistStatesIsValuesYamlsDefault() {
    int stated = 0;
    List<String> wrong = new ArrayList<>();
    Matcher m = DEFAULT.matcher(checklist);
    while (m.find()) {
      stated++;
      JsonNode value = valueAt(m.group(1));
      String actual = value == null ? "(missing)" : render(value);
      if (!actual.equals(m.group(2))) {
        wrong.add(
            m.group(1) + ": the checklist says " + m.group(2) + ", values.yaml has " + actual);
      }
    }
    assertThat(stated).as("defaults stated in the checklist").isGreaterThanOrEqualTo(10);
    assertThat(wrong).isEmpty();
  }

  @Test
  void everySettingTheChecklistRecommendsIsOneTheSchemaAllows() {
    int settings = 0;
    List<String> refused = new ArrayList<>();
    Matcher m = VALUE.matcher(checklist);
    while (m.find()) {
      if (m.group(2) == null) {
        continue;
      }
      settings++;
      JsonNode property = schemaAt(m.group(1));
      if (property == null || !allows(property, m.group(2))) {
        refused.add(m.group(1) + ": " + m.group(2));
      }
    }
    assertThat(settings).as("settings recommended as `value: setting`").isPositive();
    assertThat(refused).as("settings values.schema.json refuses").isEmpty();
  }

  @Test
  void theFilesAndSectionsTheChecklistPointsToExist() {
    List<String> broken = new ArrayList<>();
    Matcher file = REPOSITORY_PATH.matcher(checklist);
    while (file.find()) {
      if (!Files.exists(REPOSITORY.resolve(file.group(1)))) {
        broken.add(file.group(1));
      }
    }
    Set<String> anchors = new LinkedHashSet<>();
    for (String line : operations.split("\n")) {
      if (line.startsWith("#")) {
        anchors.add(
            line.replaceFirst("^#+ ", "")
                .toLowerCase()
                .replaceAll("[^a-z0-9 -]", "")
                .replace(' ', '-'));
      }
    }
    Matcher anchor = ANCHOR.matcher(checklist);
    while (anchor.find()) {
      if (!anchors.contains(anchor.group(1))) {
        broken.add("#" + anchor.group(1));
      }
    }
    assertThat(broken).as("files and sections of docs/operations.md that do not exist").isEmpty();
  }

  private static JsonNode valueAt(String path) {
    JsonNode node = values;
    for (String key : path.split("\\.")) {
      node = node.get(key);
      if (node == null) {
        return null;
      }
    }
    return node;
  }

  private static JsonNode schemaAt(String path) {
    JsonNode node = schema;
    for (String key : path.split("\\.")) {
      node = resolve(node).path("properties").get(key);
      if (node == null) {
        return null;
      }
    }
    return resolve(node);
  }

  /** Follows a local {@code $ref} ("#/definitions/duration"). */
  private static JsonNode resolve(JsonNode node) {
    JsonNode ref = node.get("$ref");
    if (ref == null) {
      return node;
    }
    JsonNode target = schema;
    for (String key : ref.asText().substring(2).split("/")) {
      target = target.path(key);
    }
    return target;
  }

  /** A value as the checklist writes it: scalars as in YAML, empty string `""`, lists `[]`. */
  private static String render(JsonNode value) {
    if (value.isTextual()) {
      return value.asText().isEmpty() ? "\"\"" : value.asText();
    }
    if (value.isContainerNode() && value.isEmpty()) {
      return value.isArray() ? "[]" : "{}";
    }
    return value.toString();
  }

  private static boolean allows(JsonNode property, String setting) {
    JsonNode allowed = property.get("enum");
    if (allowed != null) {
      for (JsonNode v : allowed) {
        if (v.asText().equals(setting)) {
          return true;
        }
      }
      return false;
    }
    return switch (property.path("type").asText()) {
      case "boolean" -> setting.equals("true") || setting.equals("false");
      case "integer" -> setting.matches("-?\\d+");
      case "string" -> true;
      default -> false;
    };
  }
}
