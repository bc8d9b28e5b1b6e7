package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class PatchesTest {

  private static final JsonNode POD =
      Json.parse(
          """
          {"metadata":{"name":"p","labels":{"a":"1","b":"2"}},
           "spec":{"containers":[
             {"name":"main","image":"v1","env":[{"name":"X","value":"1"}]},
             {"name":"side","image":"s1"}]}}
          """);

  @Test
  void mergePatchRemovesNullsAndReplacesLists() {
    JsonNode out =
        Patches.apply(
            "application/merge-patch+json",
            POD,
            Json.parse(
                "{\"metadata\":{\"labels\":{\"a\":null,\"c\":\"3\"}},"
                    + "\"spec\":{\"containers\":[{\"name\":\"only\"}]}}"));
    assertThat(out.at("/metadata/labels").toString()).isEqualTo("{\"b\":\"2\",\"c\":\"3\"}");
    assertThat(out.at("/spec/containers").size()).isEqualTo(1);
    assertThat(POD.at("/metadata/labels/a").asText()).as("input untouched").isEqualTo("1");
  }

  @Test
  void strategicMergeMergesListsByNameAndHonoursDirectives() {
    JsonNode out =
        Patches.apply(
            "application/strategic-merge-patch+json",
            POD,
            Json.parse(
                """
                {"$setElementOrder/containers":[{"name":"main"},{"name":"side"}],
                 "spec":{"containers":[
                   {"name":"main","image":"v2"},
                   {"name":"side","$patch":"delete"},
                   {"name":"new","image":"n1"}]}}
                """));
    assertThat(out.at("/spec/containers/0/image").asText()).isEqualTo("v2");
    assertThat(out.at("/spec/containers/0/env/0/value").asText()).isEqualTo("1");
    assertThat(out.at("/spec/containers/1/name").asText()).isEqualTo("new");
    assertThat(out.at("/spec/containers").size()).isEqualTo(2);
    assertThat(out.has("$setElementOrder/containers")).isFalse();
  }

  @Test
  void jsonPatchAndUnsupportedTypes() {
    JsonNode out =
        Patches.apply(
            "application/json-patch+json",
            POD,
            Json.parse("[{\"op\":\"replace\",\"path\":\"/metadata/labels/b\",\"value\":\"9\"}]"));
    assertThat(out.at("/metadata/labels/b").asText()).isEqualTo("9");
    assertThatThrownBy(() -> Patches.apply("text/plain", POD, POD))
        .isInstanceOf(UnsupportedOperationException.class);
  }
}
