package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A parsed request, transport-independent, and the user it was admitted as. */
record ApiRequest(
    String method, String uri, String accept, String contentType, String body, UserInfo user) {

  /** A request from the sandbox's administrator (in-process calls). */
  ApiRequest(String method, String uri, String accept, String contentType, String body) {
    this(method, uri, accept, contentType, body, UserInfo.ADMIN);
  }

  String path() {
    int q = uri.indexOf('?');
    return q < 0 ? uri : uri.substring(0, q);
  }

  Map<String, String> query() {
    Map<String, String> out = new LinkedHashMap<>();
    int q = uri.indexOf('?');
    if (q < 0) {
      return out;
    }
    for (String pair : uri.substring(q + 1).split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      out.put(
          URLDecoder.decode(k, StandardCharsets.UTF_8),
          URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  boolean isWatch() {
    String w = query().get("watch");
    return "true".equals(w) || "1".equals(w);
  }

  boolean isDryRun() {
    return query().containsKey("dryRun");
  }

  boolean wantsTable() {
    return accept != null && accept.contains("as=Table");
  }

  /** The body as JSON (or YAML when the content type says so); null when empty or unparsable. */
  JsonNode parsedBody() {
    if (body == null || body.isBlank()) {
      return null;
    }
    try {
      String ct = contentType == null ? "" : contentType;
      return ct.contains("yaml") ? Json.YAML.readTree(body) : Json.parse(body);
    } catch (Exception e) {
      return null;
    }
  }
}
