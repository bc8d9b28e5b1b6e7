package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Answers self-subject access and rules reviews the way an API server with no authorization would:
 * every caller may do everything. Clients ask before acting (JOSDK checks it may use its leader
 * Lease; {@code kubectl auth can-i}); the sandbox has one user, so the honest answer is yes.
 * Reviews are answered, never stored, as on a real server.
 */
final class AccessReviews {
  static final String GROUP = "authorization.k8s.io";

  private AccessReviews() {}

  static Reply answer(String method, JsonNode body) {
    if (!"POST".equals(method)) {
      return Reply.status(405, "MethodNotAllowed", "access reviews are only created (POST)");
    }
    if (body == null || !body.isObject()) {
      return Reply.status(400, "BadRequest", "the request body is not a review object");
    }
    ObjectNode review = ((ObjectNode) body).deepCopy();
    String kind = review.path("kind").asText("");
    ObjectNode status = Json.object();
    switch (kind) {
      case "SelfSubjectRulesReview" -> {
        ObjectNode rule = Json.object();
        rule.putArray("verbs").add("*");
        rule.putArray("apiGroups").add("*");
        rule.putArray("resources").add("*");
        status.putArray("resourceRules").add(rule);
        ObjectNode nonResource = Json.object();
        nonResource.putArray("verbs").add("*");
        nonResource.putArray("nonResourceURLs").add("*");
        status.putArray("nonResourceRules").add(nonResource);
        status.put("incomplete", false);
      }
      case "SelfSubjectAccessReview" -> status.put("allowed", true).put("reason", "sandbox");
      default -> {
        return Reply.status(400, "BadRequest", "unknown review kind '" + kind + "'");
      }
    }
    review.set("status", status);
    return Reply.json(201, review);
  }
}
