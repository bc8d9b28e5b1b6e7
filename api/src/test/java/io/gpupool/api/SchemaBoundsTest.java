package io.gpupool.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The generated schemas refuse the values that used to wedge a reconcile (issue #18): each bound
 * here is one the operator relies on.
 */
class SchemaBoundsTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private static JsonNode schema(String plural) throws IOException {
    return YAML.readTree(
            Path.of("target/classes/META-INF/fabric8", plural + ".gpupool.io-v1.yml").toFile())
        .at("/spec/versions/0/schema/openAPIV3Schema");
  }

  @Test
  void billingAccountsAreClusterScopedInTheGpupoolCategory() throws IOException {
    JsonNode crd =
        YAML.readTree(
            Path.of("target/classes/META-INF/fabric8", "billingaccounts.gpupool.io-v1.yml")
                .toFile());
    assertThat(crd.at("/spec/scope").asText()).isEqualTo("Cluster");
    assertThat(crd.at("/spec/names/shortNames").toString()).isEqualTo("[\"ba\"]");
    assertThat(crd.at("/spec/names/categories").toString()).isEqualTo("[\"gpupool\"]");
    List<String> columns = new ArrayList<>();
    crd.at("/spec/versions/0/additionalPrinterColumns")
        .forEach(c -> columns.add(c.path("name").asText()));
    assertThat(columns)
        .containsExactly("Payer", "Escrow", "Committed", "Spent", "Period-Spent", "Jobs", "Age");
    JsonNode namespaces = schema("billingaccounts").at("/properties/spec/properties/namespaces");
    assertThat(namespaces.at("/items/maxLength").asInt()).isEqualTo(63);
    JsonNode limits = schema("billingaccounts").at("/properties/spec/properties/limits");
    for (String cap : List.of("maxCostPerJob", "maxCostPerPeriod")) {
      assertThat(limits.at("/properties/" + cap + "/pattern").asText())
          .isEqualTo(io.gpupool.api.v1alpha1.ApiPatterns.DECIMAL);
      assertThat(limits.at("/properties/" + cap + "/maxLength").asInt()).isEqualTo(40);
    }
    assertThat(limits.at("/properties/period/pattern").asText())
        .isEqualTo("^[1-9][0-9]{0,3}[mhd]$");
    assertThat(limits.at("/properties/period/maxLength").asInt()).isEqualTo(5);
  }

  @Test
  void aBudgetNamesAnAccountOrAPayer() throws IOException {
    JsonNode budget = schema("trainingjobs").at("/properties/spec/properties/budget");
    assertThat(budget.at("/properties/account/type").asText()).isEqualTo("string");
    assertThat(budget.path("required").isMissingNode() || budget.path("required").isEmpty())
        .isTrue();
  }

  @Test
  void activeDeadlineSecondsHasAMaximum() throws IOException {
    JsonNode field = schema("trainingjobs").at("/properties/spec/properties/activeDeadlineSeconds");
    assertThat(field.path("maximum").asLong()).isEqualTo(366L * 24 * 3600);
  }

  /** An unbounded integer reaches the operator as a number its Integer fields cannot hold. */
  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs", "gpuproviders", "billingaccounts"})
  void everySpecNumberHasAMaximum(String plural) throws IOException {
    List<String> unbounded = new ArrayList<>();
    unboundedNumbers(schema(plural).at("/properties/spec"), "spec", unbounded);
    assertThat(unbounded).isEmpty();
  }

  private static void unboundedNumbers(JsonNode schema, String path, List<String> out) {
    if (path.equals("spec.template")) {
      // Kubernetes' own pod template types, bounded as the API server's core schemas leave them.
      return;
    }
    String type = schema.path("type").asText();
    if ((type.equals("integer") || type.equals("number")) && !schema.has("maximum")) {
      out.add(path);
    }
    schema
        .path("properties")
        .fields()
        .forEachRemaining(p -> unboundedNumbers(p.getValue(), path + "." + p.getKey(), out));
    if (schema.has("items") && !path.endsWith(".env")) {
      unboundedNumbers(schema.get("items"), path + "[]", out);
    }
  }

  /**
   * Kubernetes' own types in the pod template: the API server validates no {@code format: int32}
   * and stores whatever the bounds allow, so every integer there must say its width and be bounded
   * to what the operator's model can read: an int32 (Integer fields) within int32, an int64 (Long)
   * within the integers a JSON number holds exactly, which any API server compares exactly.
   */
  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs"})
  void everyIntegerOfThePodTemplateHasItsWidthAndAnInt32Fits(String plural) throws IOException {
    Map<String, JsonNode> integers = new TreeMap<>();
    integers(schema(plural).at("/properties/spec/properties/template"), "template", integers);
    List<String> wrong = new ArrayList<>();
    integers.forEach(
        (path, field) -> {
          String format = field.path("format").asText();
          long limit = format.equals("int32") ? Integer.MAX_VALUE : JSON_EXACT_INTEGER;
          boolean fits =
              field.has("minimum")
                  && field.has("maximum")
                  && field.get("minimum").asLong() >= -limit - 1
                  && field.get("maximum").asLong() <= limit;
          if (!(format.equals("int32") || format.equals("int64")) || !fits) {
            wrong.add(path + " " + field);
          }
        });
    assertThat(wrong).isEmpty();
    // the width is the Kubernetes type's: int32 where Go declares int32, int64 where int64
    assertThat(integers.keySet().stream().filter(p -> format(integers, p).equals("int32")))
        .hasSizeGreaterThanOrEqualTo(50)
        .contains(
            "template.sidecars[].ports[].containerPort",
            "template.initContainers[].livenessProbe.periodSeconds",
            "template.volumes[].secret.defaultMode",
            "template.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[].weight");
    assertThat(integers.keySet().stream().filter(p -> format(integers, p).equals("int64")))
        .contains(
            "template.securityContext.runAsUser",
            "template.tolerations[].tolerationSeconds",
            "template.sidecars[].readinessProbe.terminationGracePeriodSeconds");
  }

  /** The ranges Kubernetes itself enforces for those fields in a pod, so no pod creation fails. */
  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs"})
  void podTemplateIntegersHaveKubernetesOwnBounds(String plural) throws IOException {
    Map<String, JsonNode> integers = new TreeMap<>();
    integers(schema(plural).at("/properties/spec/properties/template"), "template", integers);
    Map<String, String> expected =
        Map.of(
            "template.sidecars[].ports[].containerPort", "1..65535",
            "template.initContainers[].ports[].hostPort", "0..65535",
            "template.sidecars[].startupProbe.grpc.port", "1..65535",
            "template.sidecars[].livenessProbe.periodSeconds", "0..2147483647",
            "template.volumes[].configMap.items[].mode", "0..511",
            "template.volumes[].iscsi.lun", "0..255",
            "template.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[].weight",
                "1..100",
            "template.securityContext.supplementalGroups[]", "0..2147483647",
            "template.volumes[].projected.sources[].serviceAccountToken.expirationSeconds",
                "600..4294967296");
    Map<String, String> actual = new TreeMap<>();
    expected
        .keySet()
        .forEach(
            path -> {
              JsonNode field = integers.get(path);
              actual.put(
                  path,
                  field == null
                      ? "missing"
                      : field.path("minimum").asText("-")
                          + ".."
                          + field.path("maximum").asText("-"));
            });
    assertThat(actual).isEqualTo(new TreeMap<>(expected));
  }

  /** Kubernetes refuses a pod whose container has no name or one that is not a DNS-1123 label. */
  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs"})
  void templateContainersHaveKubernetesContainerNames(String plural) throws IOException {
    for (String list : List.of("sidecars", "initContainers")) {
      JsonNode items =
          schema(plural).at("/properties/spec/properties/template/properties/" + list + "/items");
      assertThat(items.path("required").toString()).as(list).contains("\"name\"");
      JsonNode name = items.at("/properties/name");
      assertThat(name.path("pattern").asText())
          .as(list)
          .isEqualTo("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");
      assertThat(name.path("maxLength").asInt()).as(list).isEqualTo(63);
    }
  }

  private static final long JSON_EXACT_INTEGER = (1L << 53) - 1;

  private static String format(Map<String, JsonNode> integers, String path) {
    return integers.get(path).path("format").asText();
  }

  /** Every integer below {@code schema}, by path ({@code a.b[].c}). */
  private static void integers(JsonNode schema, String path, Map<String, JsonNode> out) {
    if (schema.path("type").asText().equals("integer")) {
      out.put(path, schema);
    }
    schema
        .path("properties")
        .fields()
        .forEachRemaining(p -> integers(p.getValue(), path + "." + p.getKey(), out));
    if (schema.has("items")) {
      integers(schema.get("items"), path + "[]", out);
    }
    if (schema.path("additionalProperties").isObject()) {
      integers(schema.get("additionalProperties"), path + "{}", out);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs"})
  void jobNamesAreShortDnsLabels(String plural) throws IOException {
    List<String> rules = new ArrayList<>();
    schema(plural)
        .path("x-kubernetes-validations")
        .forEach(r -> rules.add(r.path("rule").asText()));
    assertThat(rules)
        .contains("self.metadata.name.size() <= 50")
        .anySatisfy(r -> assertThat(r).startsWith("self.metadata.name.matches("));
  }

  @Test
  void metricsPathIsAPlainPath() throws IOException {
    JsonNode field =
        schema("inferencejobs")
            .at("/properties/spec/properties/autoscaling/properties/metricsPath");
    assertThat(field.path("pattern").asText()).isEqualTo("^/[A-Za-z0-9._~/-]*$");
    assertThat(field.path("maxLength").asInt()).isPositive();
  }

  @Test
  void providerPricesAreAMapKeyedByProductWithBoundedStrings() throws IOException {
    JsonNode prices = schema("gpuproviders").at("/properties/spec/properties/prices");
    assertThat(prices.path("x-kubernetes-list-type").asText()).isEqualTo("map");
    assertThat(prices.path("x-kubernetes-list-map-keys").toString()).isEqualTo("[\"gpuProduct\"]");
    JsonNode item = prices.at("/items/properties");
    assertThat(item.at("/gpuProduct/maxLength").asInt()).isBetween(1, 128);
    assertThat(item.at("/pricePerGpuHour/pattern").asText())
        .isEqualTo("^[0-9]{1,6}(\\.[0-9]{1,18})?$");
    assertThat(item.at("/pricePerGpuHour/maxLength").asInt()).isPositive();
  }

  @ParameterizedTest
  @ValueSource(strings = {"trainingjobs", "inferencejobs"})
  void priceCeilingAndCostCapAreBounded(String plural) throws IOException {
    JsonNode spec = schema(plural).at("/properties/spec/properties");
    assertThat(spec.at("/placement/properties/maxPricePerGpuHour/pattern").asText())
        .isEqualTo("^[0-9]{1,6}(\\.[0-9]{1,18})?$");
    assertThat(spec.at("/budget/properties/maxCost/maxLength").asInt()).isPositive();
  }
}
