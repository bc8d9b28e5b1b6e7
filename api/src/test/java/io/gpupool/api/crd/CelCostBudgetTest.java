package io.gpupool.api.crd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every CEL rule of every CRD stays within the API server's static cost budget, so the CRDs install
 * on a real cluster (the sandbox evaluates rules but does not estimate their cost).
 */
class CelCostBudgetTest {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** A rule, where it sits, and its cost times how many times it can run per object. */
  record RuleCost(String path, String rule, long cost, long cardinality) {
    long total() {
      return CelCostEstimator.mul(cost, cardinality);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"trainingjobs", "inferencejobs", "gpuproviders", "gpuqueues", "billingaccounts"})
  void everyRuleIsWithinTheApiServersBudget(String plural) throws IOException {
    JsonNode root =
        YAML.readTree(
                Path.of("target/classes/META-INF/fabric8", plural + ".gpupool.io-v1.yml").toFile())
            .at("/spec/versions/0/schema/openAPIV3Schema");
    List<RuleCost> rules = new ArrayList<>();
    collect(root, "", 1, rules);

    long sum = 0;
    for (RuleCost r : rules) {
      System.out.printf(
          "%s %s: cost %d x cardinality %d = %d%n",
          plural, r.path, r.cost, r.cardinality, r.total());
      assertThat(r.total())
          .as("estimated cost of %s rule %s", r.path, r.rule)
          .isLessThanOrEqualTo(CelCostEstimator.RULE_LIMIT);
      sum = CelCostEstimator.add(sum, r.total());
    }
    assertThat(sum)
        .as("%s: all rules together", plural)
        .isLessThanOrEqualTo(CelCostEstimator.CRD_LIMIT);
  }

  /**
   * The estimator catches the rule issue #18 found: uniqueness by all x exists_one over strings.
   */
  @Test
  void quadraticUniquenessOverUnboundedStringsIsOverBudget() throws IOException {
    JsonNode spec =
        YAML.readTree(
            """
            type: object
            properties:
              prices:
                type: array
                maxItems: 64
                items:
                  type: object
                  properties:
                    gpuProduct: {type: string}
            """);
    long cost =
        CelCostEstimator.cost(
            "!has(self.prices) || self.prices.all(p, self.prices.exists_one(q, q.gpuProduct =="
                + " p.gpuProduct))",
            spec);
    assertThat(cost).isGreaterThan(CelCostEstimator.RULE_LIMIT);
  }

  @Test
  void boundedStringsAndScalarsAreCheap() throws IOException {
    JsonNode spec =
        YAML.readTree(
            """
            type: object
            properties:
              min: {type: integer}
              max: {type: integer}
              name: {type: string, maxLength: 10}
            """);
    // two idents (2) + two selects (2) + one comparison (1)
    assertThat(CelCostEstimator.cost("self.min <= self.max", spec)).isEqualTo(5);
    // 1 + 1 + ceil(0.1 * min(10, 1)) for the string comparison
    assertThat(CelCostEstimator.cost("self.name == 'a'", spec)).isEqualTo(3);
  }

  /** As in cel-go's checker: map lookups are O(1), list membership and prefix scans are not. */
  @Test
  void mapLookupsAndPrefixesAreChargedAsTheApiServerDoes() throws IOException {
    JsonNode spec =
        YAML.readTree(
            """
            type: object
            properties:
              limits:
                type: object
                additionalProperties: {type: string}
              names:
                type: array
                items: {type: string}
              labels:
                type: object
                maxProperties: 64
                additionalProperties: {type: string}
            """);
    assertThat(CelCostEstimator.cost("'nvidia.com/gpu' in self.limits", spec)).isLessThan(10);
    assertThat(CelCostEstimator.cost("'nvidia.com/gpu' in self.names", spec))
        .isGreaterThan(100_000);
    // startsWith is charged by the prefix, so 64 unbounded keys stay cheap...
    assertThat(CelCostEstimator.cost("self.labels.all(k, !k.startsWith('gpupool.io/'))", spec))
        .isLessThan(1_000);
    // ...but iterating a map without maxProperties costs millions (eight sidecars with two such
    // maps each were over the limit).
    assertThat(CelCostEstimator.cost("self.limits.exists(k, k.startsWith('nvidia.com/'))", spec))
        .isGreaterThan(CelCostEstimator.RULE_LIMIT / 8);
  }

  private static void collect(JsonNode schema, String path, long cardinality, List<RuleCost> out) {
    for (JsonNode rule : schema.path("x-kubernetes-validations")) {
      String text = rule.path("rule").asText();
      out.add(
          new RuleCost(
              path.isEmpty() ? "<root>" : path,
              text,
              CelCostEstimator.cost(text, schema),
              cardinality));
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = schema.path("properties").fields();
        it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      collect(p.getValue(), path + "." + p.getKey(), cardinality, out);
    }
    if (schema.has("items")) {
      collect(
          schema.get("items"),
          path + "[]",
          CelCostEstimator.mul(cardinality, CelCostEstimator.maxSize(schema)),
          out);
    }
    if (schema.path("additionalProperties").isObject()) {
      collect(
          schema.get("additionalProperties"),
          path + "{}",
          CelCostEstimator.mul(cardinality, CelCostEstimator.maxSize(schema)),
          out);
    }
  }
}
