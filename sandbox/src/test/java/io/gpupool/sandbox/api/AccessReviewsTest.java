package io.gpupool.sandbox.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class AccessReviewsTest {
  private final RbacAuthorizer rbac = RbacAuthorizer.of(RbacAuthorizerTest.POLICY);
  private final ServiceAccountTokens tokens = new ServiceAccountTokens();

  private JsonNode answer(String plural, String namespace, String body, UserInfo requester) {
    Reply reply =
        AccessReviews.answer("POST", plural, namespace, Json.parse(body), requester, rbac, tokens);
    assertThat(reply.code()).as(reply.body()).isEqualTo(201);
    return Json.parse(reply.body());
  }

  @Test
  void aRulesReviewListsWhatTheRequesterMayDoInTheNamespace() {
    JsonNode answered =
        answer(
            "selfsubjectrulesreviews",
            null,
            """
            {"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectRulesReview",
             "spec":{"namespace":"gpupool-system"}}""",
            RbacAuthorizerTest.OPERATOR);

    assertThat(answered.path("spec").path("namespace").asText()).isEqualTo("gpupool-system");
    assertThat(answered.path("status").path("incomplete").asBoolean()).isFalse();
    JsonNode rules = answered.path("status").path("resourceRules");
    assertThat(rules).hasSize(4);
    assertThat(rules.toString())
        .contains(
            "{\"verbs\":[\"get\",\"create\",\"update\",\"patch\"],\"apiGroups\":[\"coordination.k8s.io\"],\"resources\":[\"leases\"]}")
        .contains("\"resourceNames\":[\"usage\"]");
  }

  @Test
  void aSelfAccessReviewIsAnsweredForTheRequester() {
    String leases =
        """
        {"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview",
         "spec":{"resourceAttributes":{"verb":"update","group":"coordination.k8s.io",
                 "resource":"leases","namespace":"%s"}}}""";
    JsonNode allowed =
        answer(
            "selfsubjectaccessreviews",
            null,
            leases.formatted("gpupool-system"),
            RbacAuthorizerTest.OPERATOR);
    assertThat(allowed.path("status").path("allowed").asBoolean()).isTrue();
    assertThat(allowed.path("status").path("reason").asText()).startsWith("RBAC: allowed by");
    JsonNode denied =
        answer(
            "selfsubjectaccessreviews",
            null,
            leases.formatted("default"),
            RbacAuthorizerTest.OPERATOR);
    assertThat(denied.path("status").path("allowed").asBoolean()).isFalse();
  }

  @Test
  void aSubjectAccessReviewAsksForAnotherUserAndALocalOneIsPinnedToItsNamespace() {
    JsonNode sar =
        answer(
            "subjectaccessreviews",
            null,
            """
            {"kind":"SubjectAccessReview","spec":{"user":"bob","groups":["ml-team"],
             "resourceAttributes":{"verb":"get","resource":"pods","subresource":"status",
                                   "namespace":"ml"}}}""",
            UserInfo.ADMIN);
    assertThat(sar.path("status").path("allowed").asBoolean()).isTrue();
    JsonNode nonResource =
        answer(
            "subjectaccessreviews",
            null,
            """
            {"kind":"SubjectAccessReview","spec":{"user":"bob",
             "nonResourceAttributes":{"verb":"get","path":"/metrics"}}}""",
            UserInfo.ADMIN);
    assertThat(nonResource.path("status").path("allowed").asBoolean()).isFalse();
    Reply mismatch =
        AccessReviews.answer(
            "POST",
            "localsubjectaccessreviews",
            "ml",
            Json.parse(
                """
                {"kind":"LocalSubjectAccessReview","spec":{"user":"bob",
                 "resourceAttributes":{"verb":"get","resource":"pods","namespace":"other"}}}"""),
            UserInfo.ADMIN,
            rbac,
            tokens);
    assertThat(mismatch.code()).isEqualTo(422);
    Reply nobody =
        AccessReviews.answer(
            "POST",
            "subjectaccessreviews",
            null,
            Json.parse("{\"kind\":\"SubjectAccessReview\",\"spec\":{}}"),
            UserInfo.ADMIN,
            rbac,
            tokens);
    assertThat(nobody.code()).isEqualTo(422);
  }

  @Test
  void aTokenReviewKnowsTheTokensThisServerIssued() {
    String token = tokens.issue("monitoring", "prometheus");
    JsonNode ok =
        answer(
            "tokenreviews",
            null,
            "{\"kind\":\"TokenReview\",\"spec\":{\"token\":\"" + token + "\"}}",
            UserInfo.ADMIN);
    assertThat(ok.path("status").path("authenticated").asBoolean()).isTrue();
    assertThat(ok.path("status").path("user").path("username").asText())
        .isEqualTo("system:serviceaccount:monitoring:prometheus");
    JsonNode bad =
        answer(
            "tokenreviews",
            null,
            "{\"kind\":\"TokenReview\",\"spec\":{\"token\":\"forged\"}}",
            UserInfo.ADMIN);
    assertThat(bad.path("status").path("authenticated").asBoolean()).isFalse();
  }

  @Test
  void reviewsAreOnlyCreated() {
    assertThat(
            AccessReviews.answer(
                    "GET", "selfsubjectaccessreviews", null, null, UserInfo.ADMIN, rbac, tokens)
                .code())
        .isEqualTo(405);
  }
}
