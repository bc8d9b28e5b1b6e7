package io.gpupool.sandbox.api;

/**
 * One kind of request a client made, in the terms RBAC authorizes: API group, resource (with {@code
 * /subresource}), verb, the namespace it was made in (null for cluster-scoped resources and
 * requests across all namespaces) and the object's name (null for collections).
 */
public record ApiCall(
    String userAgent, String group, String resource, String verb, String namespace, String name) {

  /** Whether the request named a namespace, so that a Role there could grant it. */
  public boolean namespaced() {
    return namespace != null;
  }

  @Override
  public String toString() {
    return verb
        + " "
        + (group.isEmpty() ? "core" : group)
        + "/"
        + resource
        + (namespace == null ? " (cluster-wide)" : " in " + namespace)
        + (name == null ? "" : " " + name);
  }
}
