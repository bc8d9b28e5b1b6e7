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

  /** The call {@code method uri} makes, or empty for a non-resource or discovery request. */
  public static Optional<ApiCall> resolve(String userAgent, String method, String uri) {
    ApiRequest request = new ApiRequest(method, uri, null, null, "");
    ResourcePath p = ResourcePath.parse(request.path());
    if (p == null || p.plural == null) {
      return Optional.empty();
    }
    String verb =
        switch (method) {
          case "GET", "HEAD" -> request.isWatch() ? "watch" : p.name == null ? "list" : "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          case "DELETE" -> p.name == null ? "deletecollection" : "delete";
          default -> method.toLowerCase(java.util.Locale.ROOT);
        };
    String resource = p.subresource == null ? p.plural : p.plural + "/" + p.subresource;
    // A namespace is its own object: /api/v1/namespaces/x is "get namespaces x", cluster-scoped.
    String namespace = p.namespace;
    return Optional.of(
        new ApiCall(
            userAgent == null ? "" : userAgent, p.group, resource, verb, namespace, p.name));
  }
}
