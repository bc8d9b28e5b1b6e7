package io.gpupool.sandbox.api;

/**
 * What one request asks to do, in the terms RBAC decides on: a resource request (verb, API group,
 * resource, subresource, namespace, name) or a non-resource request (verb and path). Empty strings,
 * never nulls, for what does not apply, as in the API server's authorizer attributes.
 */
public record AuthorizationAttributes(
    boolean resourceRequest,
    String verb,
    String apiGroup,
    String resource,
    String subresource,
    String namespace,
    String name,
    String path) {

  public AuthorizationAttributes {
    verb = verb == null ? "" : verb;
    apiGroup = apiGroup == null ? "" : apiGroup;
    resource = resource == null ? "" : resource;
    subresource = subresource == null ? "" : subresource;
    namespace = namespace == null ? "" : namespace;
    name = name == null ? "" : name;
    path = path == null ? "" : path;
  }

  public static AuthorizationAttributes resource(
      String verb,
      String apiGroup,
      String resource,
      String subresource,
      String namespace,
      String name) {
    return new AuthorizationAttributes(
        true, verb, apiGroup, resource, subresource, namespace, name, "");
  }

  public static AuthorizationAttributes nonResource(String verb, String path) {
    return new AuthorizationAttributes(false, verb, "", "", "", "", "", path);
  }

  /** {@code resource/subresource}, or the resource alone. */
  String combinedResource() {
    return subresource.isEmpty() ? resource : resource + "/" + subresource;
  }

  /**
   * The API server's message for a denied request (its {@code forbiddenMessage} and {@code
   * NewForbidden}), e.g. {@code pods is forbidden: User "u" cannot list resource "pods" in API
   * group "" in the namespace "ml"}; {@code reason} (RBAC's evaluation errors) is appended after a
   * colon.
   */
  String forbiddenMessage(String username, String reason) {
    String what;
    if (!resourceRequest) {
      what = "User \"" + username + "\" cannot " + verb + " path \"" + path + "\"";
    } else {
      what =
          "User \""
              + username
              + "\" cannot "
              + verb
              + " resource \""
              + combinedResource()
              + "\" in API group \""
              + apiGroup
              + "\""
              + (namespace.isEmpty()
                  ? " at the cluster scope"
                  : " in the namespace \"" + namespace + "\"");
    }
    if (reason != null && !reason.isEmpty()) {
      what = what + ": " + reason;
    }
    if (!resourceRequest) {
      return "forbidden: " + what;
    }
    String qualified = apiGroup.isEmpty() ? resource : resource + "." + apiGroup;
    return name.isEmpty()
        ? qualified + " is forbidden: " + what
        : qualified + " \"" + name + "\" is forbidden: " + what;
  }
}
