package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The answers of injected faults, shaped as a real API server's. */
final class Faults {

  private Faults() {}

  static Reply throttled() {
    return Reply.status(
        429, "TooManyRequests", "sandbox fault plan: too many requests, please try again later");
  }

  static Reply internalError() {
    return Reply.status(500, "InternalError", "sandbox fault plan: an error on the server");
  }

  static Reply unavailable() {
    return Reply.status(
        503, "ServiceUnavailable", "sandbox fault plan: the server is currently unable to answer");
  }

  /** 409 with the message kube-apiserver gives a stale update. */
  static Reply conflict(ApiRequest r) {
    ResourcePath p = ResourcePath.parse(r.path());
    String plural = p == null || p.plural == null ? "objects" : p.plural;
    String group = p == null || p.group == null || p.group.isEmpty() ? "" : "." + p.group;
    String name = p == null || p.name == null ? "" : p.name;
    ObjectNode details = Json.object().put("name", name).put("kind", plural);
    if (!group.isEmpty()) {
      details.put("group", group.substring(1));
    }
    return Reply.status(
        409,
        "Conflict",
        "Operation cannot be fulfilled on "
            + plural
            + group
            + " \""
            + name
            + "\": the object has been modified; please apply your changes to the latest version"
            + " and try again",
        details);
  }

  /** The ERROR event a watch gets when its resourceVersion is older than the server keeps. */
  static String goneEvent(ApiRequest r) {
    String rv = r.query().getOrDefault("resourceVersion", "");
    return expired("too old resource version: " + rv + " (sandbox fault plan)");
  }

  /**
   * The ERROR event kube-apiserver sends a watch from {@code requested} when its watch cache starts
   * after it: the client lists again.
   */
  static String expiredEvent(String requested, long oldest) {
    return expired("too old resource version: " + requested + " (" + oldest + ")");
  }

  private static String expired(String message) {
    ObjectNode status =
        Json.object()
            .put("kind", "Status")
            .put("apiVersion", "v1")
            .put("status", "Failure")
            .put("message", message)
            .put("reason", "Expired")
            .put("code", 410);
    status.putObject("metadata");
    ObjectNode event = Json.object().put("type", "ERROR");
    event.set("object", status);
    return Json.write(event);
  }
}
