package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class AccessReviewsTest {

  @Test
  void aRulesReviewGrantsEverythingInTheAskedNamespace() {
    JsonNode review =
        Json.parse(
            """
            {"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview",
             "spec":{"namespace":"gpupool-system"}}""");

    Reply reply = AccessReviews.answer("POST", review);

    assertThat(reply.code()).isEqualTo(201);
    JsonNode answered = Json.parse(reply.body());
    assertThat(answered.path("spec").path("namespace").asText()).isEqualTo("gpupool-system");
    JsonNode rule = answered.path("status").path("resourceRules").get(0);
    assertThat(rule.path("verbs").get(0).asText()).isEqualTo("*");
    assertThat(rule.path("resources").get(0).asText()).isEqualTo("*");
  }

  @Test
  void anAccessReviewIsAllowed() {
    JsonNode review =
        Json.parse(
            """
            {"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
             "spec":{"resourceAttributes":{"verb":"create","resource":"leases"}}}""");

    JsonNode answered = Json.parse(AccessReviews.answer("POST", review).body());

    assertThat(answered.path("status").path("allowed").asBoolean()).isTrue();
  }

  @Test
  void reviewsAreOnlyCreatedAndMustBeKnown() {
    assertThat(AccessReviews.answer("GET", null).code()).isEqualTo(405);
    assertThat(AccessReviews.answer("POST", Json.parse("{\"kind\":\"Nope\"}")).code())
        .isEqualTo(400);
  }
}
