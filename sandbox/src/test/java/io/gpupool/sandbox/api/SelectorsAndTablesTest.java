package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class SelectorsAndTablesTest {

  private static final JsonNode POD =
      Json.parse(
          """
          {"apiVersion":"v1","kind":"Pod",
           "metadata":{"name":"p","namespace":"ns","creationTimestamp":"2026-01-01T00:00:00Z",
             "labels":{"app":"train","tier":"gpu"}},
           "spec":{"nodeName":"n1","containers":[{"name":"c"}]},
           "status":{"phase":"Running","podIP":"10.0.0.1",
             "conditions":[{"type":"Ready","status":"True"}],
             "containerStatuses":[{"name":"c","ready":true,"restartCount":2,"state":{"running":{}}}]}}
          """);

  @Test
  void labelSelectorsIncludingSetBased() {
    assertThat(Selectors.parse("app=train,tier", null).matches(POD)).isTrue();
    assertThat(Selectors.parse("app in (train, serve),!missing", null).matches(POD)).isTrue();
    assertThat(Selectors.parse("app notin (train)", null).matches(POD)).isFalse();
    assertThat(Selectors.parse("app!=train", null).matches(POD)).isFalse();
    assertThat(Selectors.parse("!tier", null).matches(POD)).isFalse();
  }

  @Test
  void fieldSelectorsOnAnyField() {
    assertThat(Selectors.parse(null, "spec.nodeName=n1,status.phase!=Failed").matches(POD))
        .isTrue();
    assertThat(Selectors.parse(null, "metadata.name==q").matches(POD)).isFalse();
  }

  @Test
  void jsonPathFilterAndIndexes() {
    assertThat(JsonPath.first(POD, ".status.conditions[?(@.type==\"Ready\")].status").asText())
        .isEqualTo("True");
    assertThat(JsonPath.first(POD, "{.spec.containers[0].name}").asText()).isEqualTo("c");
    assertThat(JsonPath.select(POD, ".spec.containers[*].name")).hasSize(1);
    assertThat(JsonPath.select(POD, ".status.nothing.here")).isEmpty();
  }

  @Test
  void humanDurationsLikeKubectl() {
    assertThat(TableConverter.humanDuration(Duration.ofSeconds(5))).isEqualTo("5s");
    assertThat(TableConverter.humanDuration(Duration.ofSeconds(200))).isEqualTo("3m20s");
    assertThat(TableConverter.humanDuration(Duration.ofMinutes(75))).isEqualTo("75m");
    assertThat(TableConverter.humanDuration(Duration.ofMinutes(250))).isEqualTo("4h10m");
    assertThat(TableConverter.humanDuration(Duration.ofHours(30))).isEqualTo("30h");
    assertThat(TableConverter.humanDuration(Duration.ofHours(50))).isEqualTo("2d2h");
    assertThat(TableConverter.humanDuration(Duration.ofDays(40))).isEqualTo("40d");
  }

  @Test
  void podTableHasKubectlColumns() {
    TableConverter tables =
        new TableConverter(Clock.fixed(Instant.parse("2026-01-01T00:05:00Z"), ZoneOffset.UTC));
    ResourceType pods = new ResourceRegistry().find("", "v1", "pods").orElseThrow();
    JsonNode table = tables.toTable(pods, List.of(POD), TableConverter.IncludeObject.METADATA, "7");
    assertThat(table.at("/columnDefinitions/0/name").asText()).isEqualTo("Name");
    assertThat(table.at("/rows/0/cells").toString())
        .isEqualTo(
            "[\"p\",\"1/1\",\"Running\",\"2\",\"5m\",\"10.0.0.1\",\"n1\",\"<none>\",\"<none>\"]");
    assertThat(table.at("/rows/0/object/kind").asText()).isEqualTo("PartialObjectMetadata");
    assertThat(table.at("/metadata/resourceVersion").asText()).isEqualTo("7");
  }

  @Test
  void customResourceTableUsesPrinterColumns() throws Exception {
    ResourceType widget;
    try (InputStream in = getClass().getResourceAsStream("/crds/widgets.test.gpupool.io.yaml")) {
      widget = ResourceRegistry.fromCrd(Json.YAML.readTree(in)).get(0);
    }
    JsonNode w =
        Json.parse(
            """
            {"metadata":{"name":"w","creationTimestamp":"2026-01-01T00:00:00Z"},
             "spec":{"size":3,"colour":"red"},
             "status":{"conditions":[{"type":"Other","status":"False"},
                                     {"type":"Ready","status":"True"}]}}
            """);
    TableConverter tables =
        new TableConverter(Clock.fixed(Instant.parse("2026-01-01T01:00:00Z"), ZoneOffset.UTC));
    JsonNode table = tables.toTable(widget, List.of(w), TableConverter.IncludeObject.NONE, null);
    assertThat(table.at("/rows/0/cells").toString())
        .isEqualTo("[\"w\",3,\"red\",null,\"True\",null,\"60m\"]");
    assertThat(table.at("/columnDefinitions/5/priority").asInt()).isEqualTo(1);
    assertThat(table.at("/rows/0").has("object")).isFalse();
  }
}
