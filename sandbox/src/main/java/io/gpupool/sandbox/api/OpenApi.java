package io.gpupool.sandbox.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Just enough OpenAPI v3 for kubectl: per group version, the PATCH operation of every resource with
 * its {@code x-kubernetes-group-version-kind} and a {@code fieldValidation} query parameter, so
 * that kubectl sees server-side field validation support and skips downloading schemas; and, for
 * custom resources, their CRD schema under {@code components.schemas} tagged with their group,
 * version and kind, which is what {@code kubectl explain} reads.
 */
final class OpenApi {
  private OpenApi() {}

  /** {@code /openapi/v3}: each group version with a content-hash URL. */
  static ObjectNode root(ResourceRegistry registry) {
    ObjectNode root = Json.object();
    ObjectNode paths = root.putObject("paths");
    addGroupVersion(registry, paths, "", "v1");
    for (Map.Entry<String, Set<String>> g : registry.groups().entrySet()) {
      for (String v : g.getValue()) {
        addGroupVersion(registry, paths, g.getKey(), v);
      }
    }
    return root;
  }

  private static void addGroupVersion(
      ResourceRegistry registry, ObjectNode paths, String group, String version) {
    String key = group.isEmpty() ? "api/" + version : "apis/" + group + "/" + version;
    ObjectNode doc = groupVersion(registry, group, version);
    paths
        .putObject(key)
        .put("serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hash(Json.write(doc)));
  }

  /** {@code /openapi/v3/apis/G/V}, or null when unknown. */
  static ObjectNode groupVersion(ResourceRegistry registry, String group, String version) {
    List<ResourceType> types = registry.inGroupVersion(group, version);
    if (types.isEmpty()) {
      return null;
    }
    ObjectNode doc = Json.object().put("openapi", "3.0.0");
    doc.putObject("info")
        .put("title", "Kubernetes (gpupool sandbox)")
        .put("version", "v1." + SandboxApiServer.KUBE_MINOR + ".0");
    ObjectNode paths = doc.putObject("paths");
    for (ResourceType t : types) {
      String item =
          t.groupVersionPath()
              + (t.namespaced() ? "/namespaces/{namespace}" : "")
              + "/"
              + t.plural()
              + "/{name}";
      ObjectNode patch = paths.putObject(item).putObject("patch");
      patch
          .putObject("x-kubernetes-group-version-kind")
          .put("group", t.group())
          .put("version", t.version())
          .put("kind", t.kind());
      patch
          .putArray("parameters")
          .addObject()
          .put("name", "fieldValidation")
          .put("in", "query")
          .putObject("schema")
          .put("type", "string");
      patch.putObject("responses").putObject("200").put("description", "OK");
    }
    ObjectNode schemas = Json.object();
    for (ResourceType t : types) {
      if (t.isCustom()) {
        schemas.set(schemaName(t), kindSchema(t));
      }
    }
    if (!schemas.isEmpty()) {
      doc.putObject("components").set("schemas", schemas);
    }
    return doc;
  }

  /**
   * {@code io.gpupool.v1alpha1.TrainingJob}: the API server's reverse-domain name of a CRD kind.
   */
  static String schemaName(ResourceType t) {
    List<String> parts = new ArrayList<>(List.of(t.group().split("\\.")));
    Collections.reverse(parts);
    return String.join(".", parts) + "." + t.version() + "." + t.kind();
  }

  /**
   * The CRD's schema as the API server publishes it: tagged with its kind, and with the fields
   * every object has described when the CRD leaves them bare, so {@code kubectl explain} has text.
   */
  private static ObjectNode kindSchema(ResourceType t) {
    ObjectNode schema = t.schema().deepCopy();
    schema
        .putArray("x-kubernetes-group-version-kind")
        .addObject()
        .put("group", t.group())
        .put("version", t.version())
        .put("kind", t.kind());
    ObjectNode properties =
        schema.has("properties")
            ? (ObjectNode) schema.get("properties")
            : schema.putObject("properties");
    describeIfBare(
        properties,
        "apiVersion",
        "string",
        "APIVersion defines the versioned schema of this representation of an object.");
    describeIfBare(
        properties, "kind", "string", "Kind is a string value representing the REST resource.");
    describeIfBare(
        properties,
        "metadata",
        "object",
        "Standard object's metadata: name, namespace, labels, annotations, owner references.");
    return schema;
  }

  private static void describeIfBare(
      ObjectNode properties, String field, String type, String description) {
    ObjectNode p =
        properties.has(field) && properties.get(field).isObject()
            ? (ObjectNode) properties.get(field)
            : properties.putObject(field);
    if (!p.has("type")) {
      p.put("type", type);
    }
    if (!p.has("description")) {
      p.put("description", description);
    }
  }

  private static String hash(String content) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(content.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 32).toUpperCase(java.util.Locale.ROOT);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
