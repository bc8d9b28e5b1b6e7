package io.gpupool.sandbox.api;

import java.util.Optional;

/**
 * Turns an HTTP request into what RBAC authorizes, as the API server's request-info resolver does:
 * {@code GET} of an object is {@code get}, of a collection {@code list}, with {@code watch=true}
 * {@code watch}; {@code POST} {@code create}; {@code PUT} {@code update}; {@code PATCH} {@code
 * patch}; {@code DELETE} of an object {@code delete}, of a collection {@code deletecollection}.
 * Paths outside {@code /api} and {@code /apis/G/V/...} (discovery, {@code /version}, OpenAPI) are
 * non-resource requests and yield nothing.
 */
public final class RequestAttributes {
  private RequestAttributes() {}

  /**
   * What RBAC decides on for {@code method uri}, as the API server's request-info resolver sees it:
   * discovery ({@code /api}, {@code /apis/G/V}), {@code /version}, OpenAPI and health paths are
   * non-resource requests with the lower-case HTTP method as verb; a namespace is its own namespace
   * ({@code get namespaces ml} is allowed by a RoleBinding in ml); a list or watch with {@code
   * fieldSelector=metadata.name=X} names X.
   */
  public static AuthorizationAttributes authorization(String method, String uri) {
    ApiRequest request = new ApiRequest(method, uri, null, null, "");
    ResourcePath p = ResourcePath.parse(request.path());
    if (p == null || p.plural == null) {
      return AuthorizationAttributes.nonResource(
          method.toLowerCase(java.util.Locale.ROOT), request.path());
    }
    String verb = verb(method, request, p);
    String name = p.name;
    if (name == null && (verb.equals("list") || verb.equals("watch"))) {
      name = nameFromFieldSelector(request.query().get("fieldSelector"));
    }
    String namespace = p.namespace;
    if (p.group.isEmpty() && p.plural.equals("namespaces") && p.name != null) {
      namespace = p.name;
    }
    return AuthorizationAttributes.resource(
        verb, p.group, p.plural, p.subresource, namespace, name);
  }

  private static String nameFromFieldSelector(String selector) {
    if (selector == null) {
      return null;
    }
    for (String term : selector.split(",")) {
      String t = term.trim();
      if (t.startsWith("metadata.name=") && !t.startsWith("metadata.name!=")) {
        return t.substring("metadata.name=".length()).replaceFirst("^=", "");
      }
    }
    return null;
  }

  private static String verb(String method, ApiRequest request, ResourcePath p) {
    return switch (method) {
      case "GET", "HEAD" -> request.isWatch() ? "watch" : p.name == null ? "list" : "get";
      case "POST" -> "create";
      case "PUT" -> "update";
      case "PATCH" -> "patch";
      case "DELETE" -> p.name == null ? "deletecollection" : "delete";
      default -> method.toLowerCase(java.util.Locale.ROOT);
    };
  }

  /** The call {@code method uri} makes, or empty for a non-resource or discovery request. */
  public static Optional<ApiCall> resolve(String userAgent, String method, String uri) {
    ApiRequest request = new ApiRequest(method, uri, null, null, "");
    ResourcePath p = ResourcePath.parse(request.path());
    if (p == null || p.plural == null) {
      return Optional.empty();
    }
    String verb = verb(method, request, p);
    String resource = p.subresource == null ? p.plural : p.plural + "/" + p.subresource;
    // A namespace is its own object: /api/v1/namespaces/x is "get namespaces x", cluster-scoped.
    String namespace = p.namespace;
    return Optional.of(
        new ApiCall(
            userAgent == null ? "" : userAgent, p.group, resource, verb, namespace, p.name));
  }
}
