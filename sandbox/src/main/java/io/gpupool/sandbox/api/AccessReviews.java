package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/**
 * Answers access and token reviews truthfully from the RBAC policy, as a real API server does:
 * SelfSubjectAccessReview and SelfSubjectRulesReview for the requester (after impersonation, so
 * {@code kubectl auth can-i ... --as=...} is answered for the impersonated user),
 * SubjectAccessReview and LocalSubjectAccessReview for any user (what delegated authorization, as
 * kube-rbac-proxy does, asks), TokenReview for the tokens this server issued, and SelfSubjectReview
 * ({@code kubectl auth whoami}). Reviews are answered, never stored.
 */
final class AccessReviews {
  static final String GROUP = "authorization.k8s.io";
  static final String AUTHENTICATION_GROUP = "authentication.k8s.io";

  private AccessReviews() {}

  /** Whether {@code group} holds review resources this class answers. */
  static boolean answers(String group) {
    return GROUP.equals(group) || AUTHENTICATION_GROUP.equals(group);
  }

  /**
   * Answers the review {@code body} POSTed to {@code plural} (in {@code namespace} for a
   * LocalSubjectAccessReview) by {@code requester}.
   */
  static Reply answer(
      String method,
      String plural,
      String namespace,
      JsonNode body,
      UserInfo requester,
      RbacAuthorizer rbac,
      ServiceAccountTokens tokens) {
    if (!"POST".equals(method)) {
      return Reply.status(405, "MethodNotAllowed", "access reviews are only created (POST)");
    }
    if (body == null || !body.isObject()) {
      return Reply.status(400, "BadRequest", "the request body is not a review object");
    }
    ObjectNode review = ((ObjectNode) body).deepCopy();
    JsonNode spec = review.path("spec");
    ObjectNode status = Json.object();
    switch (plural) {
      case "selfsubjectaccessreviews" -> {
        Reply invalid = decide(spec, requester, rbac, status, review);
        if (invalid != null) {
          return invalid;
        }
      }
      case "subjectaccessreviews", "localsubjectaccessreviews" -> {
        String user = spec.path("user").asText("");
        List<String> groups = new ArrayList<>();
        spec.path("groups").forEach(g -> groups.add(g.asText()));
        if (user.isEmpty() && groups.isEmpty()) {
          return invalid(review, "spec.user", "at least one of user or group must be specified");
        }
        if (plural.startsWith("local")) {
          String asked = spec.path("resourceAttributes").path("namespace").asText("");
          if (!spec.path("resourceAttributes").isObject()) {
            return invalid(review, "spec.resourceAttributes", "Required value");
          }
          if (!asked.isEmpty() && !asked.equals(namespace)) {
            return invalid(
                review,
                "spec.resourceAttributes.namespace",
                "must match metadata.namespace \"" + namespace + "\"");
          }
          ((ObjectNode) spec.path("resourceAttributes")).put("namespace", namespace);
        }
        Reply invalid = decide(spec, new UserInfo(user, groups), rbac, status, review);
        if (invalid != null) {
          return invalid;
        }
      }
      case "selfsubjectrulesreviews" -> rules(spec, requester, rbac, status);
      case "tokenreviews" -> {
        var user = tokens.lookup(spec.path("token").asText(null));
        status.put("authenticated", user.isPresent());
        if (user.isPresent()) {
          ObjectNode u = status.putObject("user");
          u.put("username", user.get().name());
          ArrayNode groups = u.putArray("groups");
          user.get().groups().forEach(groups::add);
        } else {
          status.putObject("user");
          status.put("error", "invalid bearer token");
        }
      }
      case "selfsubjectreviews" -> {
        ObjectNode u = status.putObject("userInfo");
        u.put("username", requester.name());
        ArrayNode groups = u.putArray("groups");
        requester.groups().forEach(groups::add);
      }
      default -> {
        return Reply.status(404, "NotFound", "the server could not find the requested resource");
      }
    }
    review.set("status", status);
    return Reply.json(201, review);
  }

  /** Fills {@code status} with the decision for the spec's attributes, or returns a 422. */
  private static Reply decide(
      JsonNode spec, UserInfo user, RbacAuthorizer rbac, ObjectNode status, JsonNode review) {
    AuthorizationAttributes attributes;
    JsonNode resource = spec.path("resourceAttributes");
    JsonNode nonResource = spec.path("nonResourceAttributes");
    if (resource.isObject() && nonResource.isObject()) {
      return invalid(
          review,
          "spec.nonResourceAttributes",
          "cannot be specified in combination with resourceAttributes");
    }
    if (resource.isObject()) {
      attributes =
          AuthorizationAttributes.resource(
              resource.path("verb").asText(""),
              resource.path("group").asText(""),
              resource.path("resource").asText(""),
              resource.path("subresource").asText(""),
              resource.path("namespace").asText(""),
              resource.path("name").asText(""));
    } else if (nonResource.isObject()) {
      attributes =
          AuthorizationAttributes.nonResource(
              nonResource.path("verb").asText(""), nonResource.path("path").asText(""));
    } else {
      return invalid(
          review,
          "spec.resourceAttributes",
          "exactly one of nonResourceAttributes or resourceAttributes must be specified");
    }
    RbacAuthorizer.Decision decision = rbac.authorize(user, attributes);
    status.put("allowed", decision.allowed());
    if (!decision.reason().isEmpty()) {
      status.put("reason", decision.reason());
    }
    return null;
  }

  private static void rules(JsonNode spec, UserInfo user, RbacAuthorizer rbac, ObjectNode status) {
    RbacAuthorizer.RuleSet set = rbac.rulesFor(user, spec.path("namespace").asText(""));
    ArrayNode resourceRules = status.putArray("resourceRules");
    ArrayNode nonResourceRules = status.putArray("nonResourceRules");
    for (RbacAuthorizer.Rule rule : set.rules()) {
      if (!rule.resources().isEmpty()) {
        ObjectNode r = resourceRules.addObject();
        strings(r.putArray("verbs"), rule.verbs());
        strings(r.putArray("apiGroups"), rule.apiGroups());
        strings(r.putArray("resources"), rule.resources());
        if (!rule.resourceNames().isEmpty()) {
          strings(r.putArray("resourceNames"), rule.resourceNames());
        }
      }
      if (!rule.nonResourceURLs().isEmpty()) {
        ObjectNode r = nonResourceRules.addObject();
        strings(r.putArray("verbs"), rule.verbs());
        strings(r.putArray("nonResourceURLs"), rule.nonResourceURLs());
      }
    }
    status.put("incomplete", !set.errors().isEmpty());
    if (!set.errors().isEmpty()) {
      status.put("evaluationError", String.join(", ", set.errors()));
    }
  }

  private static void strings(ArrayNode array, List<String> values) {
    values.forEach(array::add);
  }

  private static Reply invalid(JsonNode review, String field, String message) {
    String kind = review.path("kind").asText("");
    ObjectNode details = Json.object().put("kind", kind).put("group", GROUP);
    details
        .putArray("causes")
        .addObject()
        .put("reason", "FieldValueInvalid")
        .put("message", message)
        .put("field", field);
    return Reply.status(
        422,
        "Invalid",
        kind + "." + GROUP + " is invalid: " + field + ": Invalid value: " + message,
        details);
  }
}
